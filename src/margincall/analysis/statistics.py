"""Mergeable run statistics: per-block sums (kept in block order), integer histograms and,
when asked for, each path's outcome.

Two runs over disjoint ranges of blocks merge exactly, so a run split over threads, batches or
Dask workers gives the same numbers, bit for bit, as one run in one piece. The layout of the
arrays is `engine.outputs`'.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from margincall.engine.outputs import BLOCK_FIELDS, HIST_FIELDS, PATH_FIELDS, Outputs

__all__ = ["BLOCK_FIELDS", "HIST_FIELDS", "PATH_FIELDS", "RunStatistics"]


@dataclass(frozen=True)
class RunStatistics:
    """Statistics of the blocks [first_block, first_block + n_blocks) of a run."""

    first_block: int
    n_blocks: int
    n_paths: int
    blocks: dict[str, np.ndarray]  # per-block arrays, axis 0 = block, in block order
    hists: dict[str, np.ndarray]  # summed over slots
    paths: dict[str, np.ndarray]  # per-path outcomes (axis 0 = path), empty arrays unless asked for

    @classmethod
    def from_outputs(cls, outputs: Outputs, first_block: int, n_blocks: int, n_paths: int) -> RunStatistics:
        blocks = {name: getattr(outputs, name)[:n_blocks].copy() for name in BLOCK_FIELDS}
        hists = {name: getattr(outputs, name).sum(axis=0, dtype=np.int64) for name in HIST_FIELDS}
        paths = {name: getattr(outputs, name).copy() for name in PATH_FIELDS}
        return cls(first_block, n_blocks, n_paths, blocks, hists, paths)

    def merge(self, other: RunStatistics) -> RunStatistics:
        """Join with the statistics of the blocks that follow these."""
        first, second = (self, other) if self.first_block <= other.first_block else (other, self)
        if first.first_block + first.n_blocks != second.first_block:
            raise ValueError("only statistics of adjacent block ranges merge")
        return replace(
            first,
            n_blocks=first.n_blocks + second.n_blocks,
            n_paths=first.n_paths + second.n_paths,
            blocks={k: np.concatenate((first.blocks[k], second.blocks[k])) for k in BLOCK_FIELDS},
            hists={k: first.hists[k] + second.hists[k] for k in HIST_FIELDS},
            paths={k: np.concatenate((first.paths[k], second.paths[k])) for k in PATH_FIELDS},
        )

    def total(self, name: str) -> np.ndarray:
        """Sum over blocks; float sums are correctly rounded (fsum), so independent of block order."""
        values = self.blocks[name]
        if values.dtype.kind in "iu":
            return values.sum(axis=0)
        flat = values.reshape(values.shape[0], -1)
        return np.array([math.fsum(flat[:, k]) for k in range(flat.shape[1])]).reshape(values.shape[1:])

    def maximum(self, name: str) -> np.ndarray:
        """Largest value over blocks (the accounting residual)."""
        values = self.blocks[name]
        return values.max(axis=0) if values.shape[0] else np.zeros(values.shape[1:])
