"""Summarise raw benchmark figures into ``RESULTS.md``.

Medians (and min-max) over runs per client and workload, the issue's
targets as ratios of txkoji to each competitor, versions, the machine, and
the profile of txkoji's sequential workload.
"""

from __future__ import annotations

import os
import platform
import statistics
from collections import defaultdict

from clientspecs import CLIENTS

WORKLOAD_TITLES = {
    "seq": "2000 sequential getTaskInfo (request=True, ~2.7 KB answers)",
    "conc": "2000 concurrent getTaskInfo",
    "listbuilds": "one listBuilds of ~10 MB (3400 builds)",
    "multicall": "one multicall of 1000 getBuild",
    "auth": "200 concurrent authenticated calls (HTTPS, getLoggedInUser)",
}

#: (label, workload, figure, competitor, goal, lower_is_better): issue 17's.
TARGETS = (
    ("sequential CPU/call vs ClientSession", "seq", "cpu", "koji", 0.35, True),
    ("sequential CPU/call vs Agent floor", "seq", "cpu", "floor-agent", 1.25, True),
    ("multicall CPU vs ClientSession", "multicall", "cpu", "koji", 0.35, True),
    ("listBuilds wall time vs ClientSession", "listbuilds", "wall", "koji", 0.4, True),
    ("listBuilds peak RSS growth vs ClientSession's", "listbuilds", "growth", "koji",
     1.0, True),
    ("concurrent calls/s vs ClientSession 32 threads", "conc", "rate", "koji-32t", 3.0,
     False),
    ("sequential CPU/call vs txkoji 0.10", "seq", "cpu", "txkoji-0.10", 0.65, True),
)  # fmt: skip

FIGURES = {
    "cpu": "cpu_us_per_call",
    "rate": "calls_per_s",
    "wall": "wall_s",
    "rss": "maxrss_kb",
    "growth": "growth_kb",
}


def machine() -> dict:
    """CPU model, cores, Python and kernel of this machine."""
    model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": f"{platform.system()} {platform.release()}",
    }


def progress_line(figures: dict) -> str:
    """One line per client process, printed while the benchmark runs."""
    head = f"run {figures['run'] + 1} {figures['client']:12} {figures['workload']:10}"
    if "error" in figures:
        return f"{head} FAILED {figures['error']}"
    if "skipped" in figures:
        return f"{head} skipped: {figures['skipped']}"
    return (
        f"{head} {figures['cpu_us_per_call']:10.1f} us CPU/call "
        f"{figures['calls_per_s']:9.1f} calls/s  wall {figures['wall_s']:.3f} s"
    )


class Cell:
    """The runs of one client on one workload."""

    def __init__(self, runs: list[dict]) -> None:
        self.ok = [run for run in runs if "cpu_s" in run]
        self.errors = [run["error"] for run in runs if "error" in run]
        skipped = [run["skipped"] for run in runs if "skipped" in run]
        self.skipped = skipped[0] if skipped else None

    def values(self, key: str) -> list[float]:
        """The figure ``key`` of every successful run."""
        return [run[key] for run in self.ok if run.get(key) is not None]

    def median(self, key: str) -> float | None:
        """The median of figure ``key``, or None."""
        values = self.values(key)
        return statistics.median(values) if values else None

    def hub(self, key: str) -> int | None:
        """The largest hub counter ``key`` over the runs."""
        values = [run["hub"][key] for run in self.ok if "hub" in run]
        return max(values) if values else None

    def spread(self, key: str, fmt: str) -> str:
        """``median (min-max)`` of figure ``key`` formatted with ``fmt``."""
        values = self.values(key)
        if not values:
            return "-"
        middle = format(statistics.median(values), fmt)
        if len(values) == 1:
            return middle
        return f"{middle} ({format(min(values), fmt)}-{format(max(values), fmt)})"


def cells(raw: list[dict]) -> dict[tuple[str, str], Cell]:
    """Group raw runs by (client, workload)."""
    grouped: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for run in raw:
        grouped[(run["client"], run["workload"])].append(run)
    return {key: Cell(runs) for key, runs in grouped.items()}


def _mb(kb: float | None) -> str:
    return "-" if kb is None else f"{kb / 1024:.1f}"


def workload_table(workload: str, table: dict) -> list[str]:
    """The table of one workload, a row per client that ran it."""
    big = workload == "listbuilds"
    head = "| client | CPU us/call | calls/s | wall s | peak RSS MB | conns (peak) |"
    head += " reqs |"
    rule = "|---|---:|---:|---:|---:|---:|---:|"
    if big:
        head += " growth MB | result MB | growth/result | type |"
        rule += "---:|---:|---:|---|"
    lines = [f"### {WORKLOAD_TITLES[workload]}", "", head, rule]
    for spec in CLIENTS:
        cell = table.get((spec.name, workload))
        if cell is None:
            continue
        if not cell.ok:
            why = cell.skipped or ("failed: " + cell.errors[0] if cell.errors else "")
            lines.append(f"| {spec.label} | {why} |")
            continue
        conns = f"{cell.hub('connections')} ({cell.hub('peak_open_connections')})"
        row = (
            f"| {spec.label} | {cell.spread('cpu_us_per_call', '.0f')} "
            f"| {cell.spread('calls_per_s', '.0f')} | {cell.spread('wall_s', '.3f')} "
            f"| {_mb(cell.median('maxrss_kb'))} | {conns} | {cell.hub('requests')} |"
        )
        if big:
            growth, size = cell.median("growth_kb"), cell.median("result_bytes")
            ratio = (
                f"{growth * 1024 / size:.2f}" if growth is not None and size else "-"
            )
            record = cell.ok[0].get("record_type") or "-"
            row += f" {_mb(growth)} | {_mb(size / 1024 if size else None)} "
            row += f"| {ratio} | {record} |"
        if cell.errors:
            row += f" ({len(cell.errors)} failed run(s))"
        lines.append(row)
    return lines + [""]


def target_lines(table: dict) -> list[str]:
    """The issue's targets, as measured (medians)."""
    lines = [
        "Judged on medians; *best-run ratio* divides the two clients' best "
        "runs (least disturbed by other load on a shared machine).  Why a "
        "target is missed, and what was tried: `benchmarks/ANALYSIS.md`.",
        "",
        "| target | txkoji | competitor | ratio | best-run ratio | goal | met |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for label, workload, figure, rival, goal, lower in TARGETS:
        ours = table.get(("txkoji", workload))
        theirs = table.get((rival, workload))
        key = FIGURES[figure]
        a = ours.median(key) if ours else None
        b = theirs.median(key) if theirs else None
        if a is None or b is None:
            lines.append(f"| {label} | - | - | - | - | {goal} | not measured |")
            continue
        pick = min if lower else max
        best = pick(ours.values(key)) / pick(theirs.values(key))
        ratio = a / b
        met = ratio <= goal if lower else ratio >= goal
        sign = "<=" if lower else ">="
        verdict = "yes" if met else f"NO, by {abs(ratio - goal):.2f}x"
        lines.append(
            f"| {label} | {a:.4g} | {b:.4g} | {ratio:.2f}x | {best:.2f}x "
            f"| {sign} {goal}x | {verdict} |"
        )
    big = table.get(("txkoji", "listbuilds"))
    growth = big.median("growth_kb") if big else None
    size = big.median("result_bytes") if big else None
    if growth is not None and size:
        ratio = growth * 1024 / size
        lines.append(
            f"| listBuilds peak memory growth vs decoded result size "
            f"| {growth / 1024:.1f} MB | {size / 2**20:.1f} MB | {ratio:.2f}x | "
            f"| <= 2x | {'yes' if ratio <= 2 else 'NO'} |"
        )
    conc = table.get(("txkoji", "conc"))
    if conc and conc.ok:
        peak = conc.hub("peak_open_connections")
        lines.append(
            f"| concurrent: connections open at once (bounded) | {peak} | | | | "
            f"bounded | {'yes' if peak is not None and peak <= 64 else 'NO'} |"
        )
    auth = table.get(("txkoji", "auth"))
    if auth and auth.ok:
        disorder = auth.hub("out_of_order")
        lines.append(
            f"| authenticated: calls reaching the hub out of callnum order "
            f"| {disorder} | | | | 0 | {'yes' if disorder == 0 else 'NO'} |"
        )
    return lines + [""]


def ratio_lines(table: dict) -> list[str]:
    """txkoji's median CPU/call and wall time over each competitor's."""
    rivals = [spec for spec in CLIENTS if spec.name != "txkoji"]
    lines = [
        "CPU per call (and wall time) of txkoji divided by the competitor's; "
        "below 1 means txkoji is cheaper (faster).",
        "",
        "| workload | " + " | ".join(spec.name for spec in rivals) + " |",
        "|---|" + "---:|" * len(rivals),
    ]
    for workload in WORKLOAD_TITLES:
        ours = table.get(("txkoji", workload))
        if not ours or not ours.ok:
            continue
        row = [workload]
        for spec in rivals:
            theirs = table.get((spec.name, workload))
            if not theirs or not theirs.ok:
                row.append("")
                continue
            cpu = ours.median("cpu_us_per_call") / theirs.median("cpu_us_per_call")
            wall = ours.median("wall_s") / theirs.median("wall_s")
            row.append(f"{cpu:.2f} ({wall:.2f})")
        lines.append("| " + " | ".join(row) + " |")
    return lines + [""]


def meta_lines(meta: dict) -> list[str]:
    """Machine, versions and conditions of the run."""
    box = meta["machine"]
    lines = [
        f"- Machine: {box['cpu']}, {box['cores']} cores, {box['kernel']}; "
        f"Python {box['python']}.",
        f"- Load average (1/5/15 min) before: "
        f"{' / '.join(f'{x:.2f}' for x in meta['load_before'])}; after: "
        f"{' / '.join(f'{x:.2f}' for x in meta['load_after'])}.",
        f"- Started {meta['started']}; {meta['runs']} run(s) per cell, "
        f"{meta['duration_s']:.0f} s in all; txkoji at {meta['revision']}.",
    ]
    for venv, found in meta["versions"].items():
        listed = ", ".join(f"{name} {version}" for name, version in found.items())
        lines.append(f"- `{venv}`: {listed}.")
    return lines + [""]


def render(raw: list[dict], meta: dict, profile_text: str | None) -> str:
    """The whole of ``RESULTS.md``."""
    table = cells(raw)
    lines = [
        "# Benchmark results",
        "",
        "Written by `.venv/bin/python benchmarks/run.py` (see "
        "`benchmarks/README.md`); do not edit by hand. Analysis and "
        "recommendations: `benchmarks/ANALYSIS.md`.",
        "",
        "Figures are medians with (min-max) over the runs. **CPU us/call** is "
        "user+sys CPU of the client process (all threads) over the measured "
        "calls, divided by the calls: the headline, since the hub shares the "
        "cores. For listBuilds a call is the one 10 MB call; for the multicall, "
        "one of its 1000 calls. *conns* is connections the hub saw opened, and "
        "(the most open at once); *reqs* the HTTP requests it answered, "
        "warm-up and login included. *growth* is the peak RSS during the call minus "
        "the RSS before it.",
        "",
    ]
    lines += meta_lines(meta)
    lines += ["## Targets (issue 17)", ""] + target_lines(table)
    lines += ["## Ratios of txkoji to each competitor", ""] + ratio_lines(table)
    lines += ["## Tables", ""]
    for workload in WORKLOAD_TITLES:
        if any(key[1] == workload for key in table):
            lines += workload_table(workload, table)
    if profile_text:
        lines += [
            "## Profile: txkoji, sequential getTaskInfo",
            "",
            "`benchmarks/profiling.py` (cProfile; its own overhead inflates the "
            "totals, the proportions are what matter).",
            "",
            "```",
            profile_text.rstrip(),
            "```",
            "",
        ]
    return "\n".join(lines)
