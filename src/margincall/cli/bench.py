"""`margincall bench`: throughput against the machine's floor and two peers, as a table and JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("bench")(bench)


def bench(
    paths: Annotated[int, typer.Option(min=10_000, help="Engine paths on workloads (a) and (b).")] = 1_000_000,
    memory_paths: Annotated[int, typer.Option(min=0, help="Paths of workload (a) for the peak-memory check (0 skips it).")] = 10_000_000,
    quantlib_paths: Annotated[int, typer.Option(min=100, help="QuantLib peer paths (scaled to a rate).")] = 4_000,
    book_paths: Annotated[int, typer.Option(min=0, help="Paths of the book, workload (c): 20 borrowers, 50 loans, 10 assets, 756 days (0 skips it).")] = 100_000,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write bench.json into this folder.")] = None,
) -> None:
    """Measure the engine on workloads (a), (b) and the book (c) against the floor, numpy and QuantLib, and the first start."""
    from margincall.bench import BenchConfig, run_benchmark
    from margincall.cli.main import console, err_console

    config = BenchConfig(paths=paths, memory_paths=memory_paths, quantlib_paths=quantlib_paths, book_paths=book_paths)
    report = run_benchmark(config, say=lambda line: err_console.print(f"bench: {line}"))
    for table in bench_tables(report):
        console.print(table)
    text = json.dumps(report, indent=2)
    console.print(text, markup=False, highlight=False)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "bench.json").write_text(text + "\n", encoding="utf-8")
        console.print(f"wrote {out / 'bench.json'}")


def _rate(x: float | None) -> str:
    return "-" if x is None else f"{x / 1e6:,.1f} M/s"


def bench_tables(report: dict[str, Any]) -> list[Table]:
    machine = report["machine"]
    runs = Table(title=f"Throughput on {machine['cpu']} ({machine['cores']} cores, {machine['numba_threads']} threads)")
    for column in ("run", "paths", "threads", "seconds", "path-days/s", "asset-days/s", "peak RSS", "P(call) ± SE"):
        runs.add_column(column)
    for key, when in (("floor", ""), ("floor_after", ", after")):
        for name, label in (("1_thread", "floor, 1 thread"), ("all_cores", "floor, all cores")):
            f = report.get(key, {}).get(name)
            if f:
                runs.add_row(label + when, "-", str(f["threads"]), f"{f['wall_s']:.2f}", "-", _rate(f["asset_days_per_s"]), "-", "-")
    for key, e in report["engine"].items():
        runs.add_row(
            f"engine ({key[0]}), {key[2:].replace('_', ' ')}", f"{e['paths']:,}", str(e["threads"]), f"{e['wall_s']:.2f}",
            _rate(e["path_days_per_s"]), _rate(e["asset_days_per_s"]), f"{e['peak_rss_bytes'] / 2**20:,.0f} MiB",
            f"{e['p_margin_call']:.4f} ± {e['p_margin_call_se']:.4f}",
        )
    for key, label in (("numpy_peer", "numpy peer (a)"), ("numpy_streaming", "numpy by day (a)"), ("quantlib_peer", "QuantLib peer (a)")):
        p = report.get(key)
        if p:
            runs.add_row(label, f"{p['paths']:,}", "1", f"{p['wall_s']:.2f}", _rate(p["path_days_per_s"]), _rate(p["path_days_per_s"]),
                         "-", f"{p['p_margin_call']:.4f} ± {p['p_margin_call_se']:.4f}")
    if "memory" in report:
        m = report["memory"]
        runs.add_row("memory check (a)", f"{m['paths']:,}", str(m["threads"]), f"{m['wall_s']:.2f}", _rate(m["path_days_per_s"]),
                     _rate(m["asset_days_per_s"]), f"{m['peak_rss_bytes'] / 2**20:,.0f} MiB", f"{m['p_margin_call']:.4f} ± {m['p_margin_call_se']:.4f}")
    ratios = Table(title="Ratios (measured in this run; the floor is the faster of its two measurements)")
    ratios.add_column("ratio")
    ratios.add_column("value", justify="right")
    for key, value in report["ratios"].items():
        ratios.add_row(key.replace("_", " "), "-" if value is None else f"{value:.2f}")
    start = report["start"]
    command = f"`margincall run --paths {start.get('paths', 2048):,}`"
    ratios.add_row(f"first {command}, empty kernel cache: wall s (CPU s)", f"{start['first_start_s']:.1f} ({start.get('first_start_cpu_s', 0.0):.1f})")
    ratios.add_row("  of which compiling the kernels, s", f"{start.get('first_start_compile_s', 0.0):.1f}")
    ratios.add_row(f"second {command}, kernels from the cache: wall s (CPU s)", f"{start['second_start_s']:.1f} ({start.get('second_start_cpu_s', 0.0):.1f})")
    efficiency = Table(title="Time to a standard error of P(call) of 0.001 on workload (a), all cores")
    for column in ("method", "paths run", "SE", "paths needed", "seconds needed"):
        efficiency.add_column(column)
    for method, e in report["efficiency"].items():
        if e is None:
            efficiency.add_row(method, "not implemented", "-", "-", "-")
        else:
            efficiency.add_row(method, f"{e['paths']:,}", f"{e['se']:.5f}", f"{e['paths_for_target']:,}", f"{e['seconds_for_target']:.2f}")
    return [runs, ratios, efficiency]
