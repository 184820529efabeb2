"""cProfile of txkoji's sequential getTaskInfo workload.

::

    .venv/bin/python benchmarks/profiling.py [--calls 2000] [--top 25]
        [--save benchmarks/.work/seq.pstats]

Starts the canned-answer hub, warms a connection up, then profiles
``--calls`` sequential ``getTaskInfo(n, request=True)`` calls (or, with
``--target``, the same requests through one of the no-XML floors).  Prints
where the time goes by source file (our modules, Twisted's, treq's...),
then the top functions by own time and by cumulative time.
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

import argparse  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import pstats  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402

sys.path.insert(0, os.path.dirname(HERE))

from layers import run_reactor  # noqa: E402
from twisted.internet import defer  # noqa: E402

import txkoji  # noqa: E402


def group_of(filename: str) -> str:
    """A short name for where a function lives: ``txkoji/codec.py``,
    ``twisted/web/_newclient.py``, ``idna/core.py``, ``stdlib/parse.py``,
    ``<built-in>``."""
    if filename.startswith(("~", "<")):
        return "<built-in>"
    for marker in ("/site-packages/", "/work/main/"):
        at = filename.rfind(marker)
        if at >= 0:
            return filename[at + len(marker) :]
    repo = os.path.dirname(HERE) + "/"
    if filename.startswith(repo):
        return filename[len(repo) :]
    return "stdlib/" + os.path.basename(filename)


def by_file(stats: pstats.Stats) -> list[tuple[str, float, int]]:
    """Own time and call count summed per source file, largest first."""
    totals: dict[str, list] = defaultdict(lambda: [0.0, 0])
    for (filename, _, _), (_, ncalls, tottime, _, _) in stats.stats.items():
        entry = totals[group_of(filename)]
        entry[0] += tottime
        entry[1] += ncalls
    ranked = sorted(totals.items(), key=lambda item: -item[1][0])
    return [(name, own, calls) for name, (own, calls) in ranked]


def caller(reactor, target: str, url: str):
    """Return ``(call(index) -> Deferred, close() -> Deferred)`` for the
    profiled client: txkoji, or one of the floors of ``clients/floor.py``."""
    if target == "txkoji":
        conn = txkoji.Connection(server=url)
        return (lambda index: conn.getTaskInfo(index, request=True)), conn.close
    sys.path.insert(0, os.path.join(HERE, "clients"))
    import floor

    post, pool = floor.poster(reactor, target, url)
    body = floor.request_body("seq", 1)
    return (lambda index: post(body)), pool.closeCachedConnections


async def profiled(reactor, target, url: str, calls: int, profiler):
    """Warm up, then profile the sequential calls; return CPU and wall."""
    call, close = caller(reactor, target, url)
    for index in range(20):
        await call(index)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.perf_counter()
    profiler.enable()
    for index in range(calls):
        await call(index)
    profiler.disable()
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
    await close()
    return cpu, wall


def main() -> None:
    """Start the hub, profile, print the summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--save", help="also write the raw pstats here")
    parser.add_argument(
        "--target",
        default="txkoji",
        choices=("txkoji", "agent", "agent-cached", "treq", "treq-tuned"),
        help="txkoji, or a no-XML floor of clients/floor.py to compare with",
    )
    args = parser.parse_args()
    hub = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "hub.py")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = json.loads(hub.stdout.readline())["http"]
        profiler = cProfile.Profile()
        outcome = []

        def run(reactor):
            url = f"http://127.0.0.1:{port}/kojihub"
            d = defer.Deferred.fromCoroutine(
                profiled(reactor, args.target, url, args.calls, profiler)
            )
            d.addCallback(outcome.append)
            return d

        run_reactor(run)
    finally:
        hub.terminate()
        hub.wait(10)
    cpu, wall = outcome[0]
    stats = pstats.Stats(profiler)
    if args.save:
        stats.dump_stats(args.save)
    total = stats.total_tt
    print(
        f"{args.target}: {args.calls} sequential getTaskInfo under cProfile: "
        f"{cpu * 1e6 / args.calls:.0f} us CPU/call, {wall:.2f} s wall, "
        f"{stats.total_calls / args.calls:.0f} function calls/call"
    )
    print("\nown time by source file (share of profiled time, us per call):")
    for name, own, ncalls in by_file(stats)[: args.top // 2 + 3]:
        print(
            f"  {100 * own / total:5.1f}%  {own * 1e6 / args.calls:7.1f} us  "
            f"{ncalls / args.calls:6.1f} calls  {name}"
        )
    for order in ("tottime", "cumulative"):
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).sort_stats(order).print_stats(args.top)
        text = buffer.getvalue()
        start = text.find("   ncalls")
        print(f"\ntop {args.top} by {order}:")
        print(text[start:].rstrip())


if __name__ == "__main__":
    main()
