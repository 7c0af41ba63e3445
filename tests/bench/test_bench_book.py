"""The bench's book workload (c) is the book the issue names, and the bench's tables show it and the first start."""

from __future__ import annotations

from collections import Counter

import pytest

import margincall
from margincall.bench.workloads import (
    C_ASSETS,
    C_BORROWERS,
    C_DAYS,
    C_LENDERS,
    C_LOANS,
    book_workload,
    workload,
)
from margincall.cli.bench import bench_tables


def test_the_book_is_20_borrowers_50_loans_10_assets_over_756_days() -> None:
    book = workload("c")
    assert (len(book.assets), len(book.borrowers), len(book.loans), len(book.lenders)) == (10, 20, 50, 5)
    assert (C_ASSETS, C_BORROWERS, C_LOANS, C_LENDERS, C_DAYS) == (10, 20, 50, 5, 756)
    assert book.horizon == 756
    assert book_workload() == book_workload()  # a fixed rule, no random numbers
    # the borrowers share markets: every asset is held by several borrowers and pledged to several lenders
    holders = Counter(asset for borrower in book.borrowers.values() for asset in borrower.holdings)
    assert set(holders) == set(book.assets) and min(holders.values()) >= 2
    lenders_by_asset = {asset: {loan.lender for loan in book.loans.values() if asset in loan.collateral} for asset in book.assets}
    assert all(len(lenders) >= 2 for lenders in lenders_by_asset.values())


@pytest.mark.slow
def test_the_book_runs_and_reports_every_lender() -> None:
    result = margincall.simulate(workload("c"), paths=512, seed=1)
    data = result.to_dict()
    assert len(data["loans"]) == 50 and len(data["borrowers"]) == 20 and len(data["lenders"]) == 5
    assert data["horizon_days"] == 756


def test_bench_tables_show_the_book_and_the_first_start() -> None:
    rate = {"wall_s": 40.0, "path_days": 75_600_000, "asset_days": 756_000_000, "path_days_per_s": 1.89e6,
            "asset_days_per_s": 18.9e6, "paths": 100_000, "threads": 2, "peak_rss_bytes": 2**28,
            "p_margin_call": 0.1, "p_margin_call_se": 0.001}
    report = {
        "machine": {"cpu": "test cpu", "cores": 2, "numba_threads": 2},
        "floor": {"all_cores": {"wall_s": 1.0, "asset_days_per_s": 3e8, "threads": 2}},
        "engine": {"c_all_cores": rate},
        "ratios": {"c_all_cores_vs_floor": 0.063},
        "start": {"paths": 20_000, "first_start_s": 25.0, "first_start_cpu_s": 45.0, "first_start_compile_s": 20.0,
                  "second_start_s": 4.0, "second_start_cpu_s": 3.5, "second_start_compile_s": 0.0},
        "efficiency": {"sobol_brownian_bridge": None},
    }
    runs, ratios, _ = bench_tables(report)
    assert "engine (c), all cores" in runs.columns[0]._cells
    assert "18.9 M/s" in runs.columns[5]._cells
    labels = ratios.columns[0]._cells
    assert "c all cores vs floor" in labels
    assert any("first `margincall run --paths 20,000`" in label for label in labels)
    assert "25.0 (45.0)" in ratios.columns[1]._cells
