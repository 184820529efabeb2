"""Watching N tasks, each with 3 children, for some poll cycles: txkoji's
``TaskWatcher`` against a loop making the official CLI's calls with the
official library's ``koji.ClientSession`` (``getTaskInfo(id,
request=True)`` per unfinished task, ``getTaskChildren(id)`` per known
task, new children fetched at once: ``koji_cli.lib.watch_tasks``).

    .venv/bin/python benchmarks/watch_bench.py [--sizes 100,1000,10000]
        [--cycles 10] [--official-cycles 2] [--official-sample 1000]
        [--output benchmarks/WATCH.md]

Each size gets a hub process (``watch_hub.py``: txkoji's fake hub over
HTTP, every task OPEN so every cycle polls them all) and each client a
process of its own.  Measured per cycle: hub requests (counted by the
hub) and the client process's CPU time.  The official loop makes the
same calls every cycle after the first, one task at a time, so it runs
``--official-cycles`` cycles over at most ``--official-sample`` of the
trees; its 10-cycle figures are the first cycle plus nine times the mean
of the others, scaled to all trees (marked "est.": at 1,000 trees two
cycles already take three minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CHILDREN = 3
FIRST_ID = 1_000_000


def root_ids(parents: int) -> list[int]:
    """The ids of the watched tasks (``watch_hub.add_tasks``'s roots)."""
    return [FIRST_ID + i * (CHILDREN + 1) for i in range(parents)]


def run_txkoji(url: str, parents: int, cycles: int) -> list[dict]:
    """Poll with txkoji's TaskWatcher; per cycle: requests and CPU s."""
    from twisted.internet import defer, task

    from txkoji import Connection
    from txkoji.watch import TaskWatcher

    results: list[dict] = []

    async def main(reactor):
        koji = Connection(server=url)
        try:
            await koji.call("benchmark.reset")
            watcher = TaskWatcher(koji, root_ids(parents), interval=1)
            for _ in range(cycles):
                began = time.process_time()
                await watcher.poll()
                cpu = time.process_time() - began
                stats = await koji.call("benchmark.stats")
                await koji.call("benchmark.reset")
                results.append({"requests": stats["requests"], "cpu": cpu})
            polled = sum(1 for _ in watcher.walk())
            assert polled == parents * (CHILDREN + 1), polled
        finally:
            await koji.close()
        report(results)

    task.react(lambda reactor: defer.ensureDeferred(main(reactor)))
    return results


def run_official(url: str, parents: int, cycles: int) -> list[dict]:
    """Poll as ``koji_cli.lib.watch_tasks`` does, with ClientSession."""
    import koji

    session = koji.ClientSession(url)
    session.callMethod("benchmark.reset")
    done = {koji.TASK_STATES[s] for s in ("CLOSED", "CANCELED", "FAILED")}
    known: dict[int, dict | None] = {tid: None for tid in root_ids(parents)}
    results = []
    for _ in range(cycles):
        began = time.process_time()
        for tid, info in list(known.items()):
            if info is None or info["state"] not in done:
                known[tid] = session.getTaskInfo(tid, request=True)
        for tid in list(known):
            for child in session.getTaskChildren(tid):
                if child["id"] not in known:
                    known[child["id"]] = session.getTaskInfo(child["id"], request=True)
        cpu = time.process_time() - began
        stats = session.callMethod("benchmark.stats")
        session.callMethod("benchmark.reset")
        results.append({"requests": stats["requests"], "cpu": cpu})
    assert len(known) == parents * (CHILDREN + 1)
    report(results)
    return results


def report(results: list[dict]) -> None:
    """Print a client's results for the runner."""
    print("RESULT " + json.dumps(results), flush=True)


def client_main(argv: list[str]) -> None:
    """``watch_bench.py client NAME URL PARENTS CYCLES``: print the
    per-cycle results as one JSON line."""
    name, url, parents, cycles = argv[0], argv[1], int(argv[2]), int(argv[3])
    run = run_txkoji if name == "txkoji" else run_official
    run(url, parents, cycles)


def client(name: str, url: str, parents: int, cycles: int) -> list[dict]:
    """Run one client in its own process."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, __file__, "client", name, url, str(parents), str(cycles)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def measure(parents: int, cycles: int, official_cycles: int, sample: int) -> dict:
    """Both clients against a fresh hub of ``parents`` trees (the official
    loop on ``sample`` of them at most, scaled up)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    hub = subprocess.Popen(
        [sys.executable, str(HERE / "watch_hub.py"), str(parents)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = json.loads(hub.stdout.readline())["url"]
        ours = client("txkoji", url, parents, cycles)
        started = time.monotonic()
        watched = min(parents, sample)
        theirs = client("koji", url, watched, official_cycles)
        wall = time.monotonic() - started
    finally:
        hub.terminate()
        hub.wait()
    scale = parents / watched
    scaled = [{k: v * scale for k, v in cycle.items()} for cycle in theirs]
    return {
        "parents": parents,
        "txkoji": ours,
        "koji": scaled,
        "koji_sample": watched,
        "koji_wall": wall,
    }


def summary(cycles: list[dict], total: int, estimated: bool) -> dict:
    """First-cycle and ``total``-cycle figures of one client."""
    first = cycles[0]
    rest = cycles[1:] or cycles
    mean_requests = sum(c["requests"] for c in rest) / len(rest)
    mean_cpu = sum(c["cpu"] for c in rest) / len(rest)
    if estimated and len(cycles) < total:
        requests = first["requests"] + mean_requests * (total - 1)
        cpu = first["cpu"] + mean_cpu * (total - 1)
    else:
        requests = sum(c["requests"] for c in cycles[:total])
        cpu = sum(c["cpu"] for c in cycles[:total])
    return {
        "first_requests": first["requests"],
        "first_cpu": first["cpu"],
        "requests_per_cycle": requests / total,
        "cpu_per_cycle": cpu / total,
        "estimated": estimated and len(cycles) < total,
    }


def table(rows: list[dict], cycles: int) -> str:
    """The Markdown report."""
    lines = [
        "# Watching tasks: txkoji `TaskWatcher` vs the official CLI's loop",
        "",
        f"Each watched task has {CHILDREN} children, all OPEN, so every cycle",
        "polls every task (the worst case).  Requests are counted by the hub;",
        "CPU is the client process's.  `1 cycle` is the first poll (which",
        f"discovers the children); `{cycles} cycles` are per-cycle means over",
        f"{cycles} cycles.  Produced by `benchmarks/watch_bench.py`.",
        "",
        "| tasks | cycles | txkoji requests/cycle | official requests/cycle | "
        "request ratio | txkoji CPU/cycle | official CPU/cycle | CPU ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        ours = summary(row["txkoji"], cycles, False)
        theirs = summary(row["koji"], cycles, True)
        sampled = row["koji_sample"] < row["parents"]
        for label, key_r, key_c, est in (
            ("1", "first_requests", "first_cpu", sampled),
            (
                str(cycles),
                "requests_per_cycle",
                "cpu_per_cycle",
                theirs["estimated"] or sampled,
            ),
        ):
            mark = " (est.)" if est else ""
            r_ours, r_theirs = ours[key_r], theirs[key_r]
            c_ours, c_theirs = ours[key_c], theirs[key_c]
            lines.append(
                f"| {row['parents']:,} | {label} | {r_ours:,.0f} | "
                f"{r_theirs:,.0f}{mark} | 1/{r_theirs / r_ours:,.0f} | "
                f"{c_ours * 1000:,.1f} ms | {c_theirs * 1000:,.1f} ms{mark} | "
                f"{c_ours / c_theirs:.3f}x |"
            )
    lines += [
        "",
        "Targets (issue 10): at most 1/50 of the official loop's requests at",
        "1,000 tasks, and at most 0.2x its client CPU per cycle.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--cycles", type=int, default=10)
    parser.add_argument("--official-cycles", type=int, default=2)
    parser.add_argument("--official-sample", type=int, default=1000)
    parser.add_argument("--output", default=str(HERE / "WATCH.md"))
    args = parser.parse_args()
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        row = measure(size, args.cycles, args.official_cycles, args.official_sample)
        print(f"{size} tasks: official loop took {row['koji_wall']:.0f} s", flush=True)
        rows.append(row)
    report = table(rows, args.cycles)
    Path(args.output).write_text(report)
    (HERE / ".work").mkdir(exist_ok=True)
    (HERE / ".work" / "watch.json").write_text(json.dumps(rows))
    print(report)


if __name__ == "__main__":
    if sys.argv[1:2] == ["client"]:
        client_main(sys.argv[2:])
    else:
        main()
