"""What a watch cycle costs when little or nothing changed: txkoji's
``TaskWatcher`` asking for the children's changes only, beside the same
watcher fetching and decoding every record each cycle (``delta_from`` out
of reach, and no ``multicall_digests``: the watcher before issue 17),
against one hub in one run.

    .venv/bin/python benchmarks/watch_change_bench.py [--sizes 1000,10000]
        [--cycles 5] [--interval 6] [--output benchmarks/WATCH_CHANGES.md]

For each size N (N OPEN ``build`` tasks watched, each with 3 OPEN
children: 4N tasks) and each mode, a fresh hub process (``watch_hub.py``)
and one client process per watcher.  Each client polls twice (finding the
tasks, then listing their children), once more (the first cycle asking
for changes), then ``--cycles`` measured cycles, ``--interval`` seconds
apart (the hub's time stamps and the client's clock are the real ones, so
the time filters see what a real watch would).  Before each measured
cycle, in the ``1%`` mode, the hub closes N/100 OPEN children and gives as
many trees a new FREE child (``benchmark.change``): 2N/100 events.

Measured per measured cycle: the client process's CPU time
(``time.process_time``) around ``poll()``, the hub's HTTP requests, the
hub process's CPU time, and the events reported.  Both watchers must
report the same events.
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
sys.path.insert(0, str(HERE))

from watch_bench import CHILDREN, root_ids  # noqa: E402

KINDS = ("changes", "every-record")
MODES = {"idle": 0.0, "1%": 0.01}


def run_client(url: str, parents: int, kind: str, share: float, args: list) -> None:
    """Poll as described above; print the per-cycle figures as JSON."""
    cycles, interval = int(args[0]), float(args[1])
    from twisted.internet import defer, task

    from txkoji import Connection
    from txkoji.watch import TaskWatcher

    results: list[dict] = []
    events: list[tuple] = []

    def on_event(event):
        events.append((event.task["id"], event.old, event.new))

    async def main(reactor):
        koji = Connection(server=url)
        try:
            watcher = TaskWatcher(koji, root_ids(parents), on_event=on_event)
            if kind == "every-record":
                watcher.delta_from = 10**9
                # Every entry decoded: the watcher falls back to multicall.
                koji.multicall_digests = None
            for _ in range(3):
                await watcher.poll()
            for _ in range(cycles):
                await task.deferLater(reactor, interval, lambda: None)
                if share:
                    await koji.call("benchmark.change", int(parents * share))
                await koji.call("benchmark.reset")
                seen = len(events)
                began = time.process_time()
                await watcher.poll()
                cpu = time.process_time() - began
                stats = await koji.call("benchmark.stats")
                results.append(
                    {
                        "cpu": cpu,
                        "requests": stats["requests"],
                        "hub_cpu": stats["cpu"],
                        "events": len(events) - seen,
                    }
                )
            polled = sum(1 for _ in watcher.walk())
            assert polled >= parents * (CHILDREN + 1), polled
        finally:
            await koji.close()
        print("RESULT " + json.dumps({"cycles": results, "events": events}))

    task.react(lambda reactor: defer.ensureDeferred(main(reactor)))


def client(url: str, parents: int, kind: str, share: float, cycles, interval):
    """Run one client in its own process; return its figures."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    argv = [sys.executable, __file__, "client", url, str(parents), kind, str(share)]
    out = subprocess.run(
        argv + [str(cycles), str(interval)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def measure(parents: int, mode: str, cycles: int, interval: float) -> dict:
    """Both watchers, each on a fresh hub of ``parents`` trees."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    row: dict = {"parents": parents, "mode": mode}
    for kind in KINDS:
        hub = subprocess.Popen(
            [sys.executable, str(HERE / "watch_hub.py"), str(parents)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            url = json.loads(hub.stdout.readline())["url"]
            row[kind] = client(url, parents, kind, MODES[mode], cycles, interval)
        finally:
            hub.terminate()
            hub.wait()
    same = row["changes"]["events"] == row["every-record"]["events"]
    row["same_events"] = same
    return row


def mean(result: dict, key: str) -> float:
    """The mean of ``key`` over the measured cycles."""
    cycles = result["cycles"]
    return sum(c[key] for c in cycles) / len(cycles)


def table(rows: list[dict], cycles: int, interval: float) -> str:
    """The Markdown report."""
    lines = [
        "| watched (polled) | mode | events/cycle | client CPU/cycle: changes "
        "| every record | ratio | requests/cycle: changes | every record "
        "| hub CPU/cycle: changes | every record | same events |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        ours, before = row["changes"], row["every-record"]
        lines.append(
            f"| {row['parents']:,} ({row['parents'] * (CHILDREN + 1):,}) "
            f"| {row['mode']} | {mean(ours, 'events'):,.0f} "
            f"| {mean(ours, 'cpu') * 1000:,.1f} ms "
            f"| {mean(before, 'cpu') * 1000:,.1f} ms "
            f"| {mean(ours, 'cpu') / mean(before, 'cpu'):.3f}x "
            f"| {mean(ours, 'requests'):.1f} | {mean(before, 'requests'):.1f} "
            f"| {mean(ours, 'hub_cpu') * 1000:,.0f} ms "
            f"| {mean(before, 'hub_cpu') * 1000:,.0f} ms "
            f"| {'yes' if row['same_events'] else 'NO'} |"
        )
    lines.append("")
    lines.append(
        f"Means over {cycles} measured cycles, {interval:g} s apart; produced by "
        "`benchmarks/watch_change_bench.py`."
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--interval", type=float, default=6.0)
    parser.add_argument("--output", default=str(HERE / "WATCH_CHANGES.md"))
    args = parser.parse_args()
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        for mode in MODES:
            rows.append(measure(size, mode, args.cycles, args.interval))
            print(table(rows[-1:], args.cycles, args.interval), flush=True)
    report = table(rows, args.cycles, args.interval)
    Path(args.output).write_text(report)
    print(report)


if __name__ == "__main__":
    if sys.argv[1:2] == ["client"]:
        a = sys.argv[2:]
        run_client(a[0], int(a[1]), a[2], float(a[3]), a[4:])
    else:
        main()
