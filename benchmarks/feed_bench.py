"""The polling feed following a busy simulating hub: what it costs the
client per cycle, what each cycle costs the hub, and whether anything is
missed or repeated.

    .venv/bin/python benchmarks/feed_bench.py [--rate 50] [--minutes 10]
        [--interval 6]

The fake hub (``txkoji.testing``) simulates on a
``twisted.internet.task.Clock``: builds start at random with
``rate=--rate`` (task state changes per hub second, on average), and the
feed polls it through the in-memory transport every ``--interval`` hub
seconds, for ``--minutes`` of hub time, after ``--warmup`` hub minutes
of simulation (builds then end about as often as they begin).  The run
is accelerated: hub time is the Clock's, so ten minutes take what their
CPU takes.  Measured per
cycle with ``time.process_time``: the hub's share (inside its HTTP
resource), the simulation's (advancing the Clock), and the client's (the
rest of ``feed.poll()``, the feed's decoding included), of which the
part spent encoding each event's checkpoint is shown apart; the client's
share of one core is its CPU per cycle over the interval.

Checked against the hub's tasks at the end: every task created after the
feed's start gave exactly one ``FREE`` event, every task started one
``OPEN`` event, every task finished one event of its final state;
nothing is reported twice.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from typing import Any

from twisted.internet import defer, task

from txkoji import Connection
from txkoji.messages import TaskStateChange
from txkoji.testing import FakeHub, memory_transport
from txkoji.testing.simulator import dataset_clock
from txkoji.watch import feed
from txkoji.watch.checkpoint import Position

FINISHED = {2: "CLOSED", 3: "CANCELED", 5: "FAILED"}


class EncodeTimer:
    """Accumulates the CPU time spent encoding checkpoints (one per event:
    the share of the checkpoint's format, apart from the polling)."""

    def __init__(self) -> None:
        self.cpu = 0.0
        encode = Position.encode

        def timed(position: Position) -> str:
            began = time.process_time()
            try:
                return encode(position)
            finally:
                self.cpu += time.process_time() - began

        Position.encode = timed  # type: ignore[method-assign]


class HubTimer:
    """Accumulates the CPU time the hub spends rendering answers."""

    def __init__(self, hub: FakeHub) -> None:
        self.cpu = 0.0
        render = hub.render

        def timed(request: Any) -> Any:
            began = time.process_time()
            try:
                return render(request)
            finally:
                self.cpu += time.process_time() - began

        hub.render = timed  # type: ignore[method-assign]


async def run(rate: float, minutes: float, interval: float, warmup: float) -> dict:
    """Follow the hub; return the figures."""
    hub = FakeHub(dataset_clock())
    sim = hub.simulate(seed=1, rate=rate)
    timer = HubTimer(hub)
    encoding = EncodeTimer()
    koji = Connection(
        server="http://koji.test/kojihub",
        transport=memory_transport(hub),
        clock=hub.clock,
    )
    sim.start()
    sim.advance(warmup * 60)  # until builds end as often as they begin
    events_feed = feed(koji, builds=False, tags=False, interval=interval)
    await events_feed.poll()  # where the hub stands
    start = hub.clock.seconds()
    known = set(hub.state.tasks)
    events: list[TaskStateChange] = []
    cycles: list[dict] = []
    for _ in range(int(minutes * 60 / interval)):
        began = time.process_time()
        sim.advance(interval)
        simulated = time.process_time() - began
        hub_before, encode_before = timer.cpu, encoding.cpu
        began = time.process_time()
        requests = events_feed.requests
        await events_feed.poll()
        total = time.process_time() - began
        hub_cpu = timer.cpu - hub_before
        found = 0
        while events_feed._queue:
            events.append(events_feed._queue.popleft())
            found += 1
        cycles.append(
            {
                "client": total - hub_cpu,
                "checkpoints": encoding.cpu - encode_before,
                "hub": hub_cpu,
                "simulation": simulated,
                "events": found,
                "requests": events_feed.requests - requests,
            }
        )
    sim.stop()
    await koji.close()
    return {
        "cycles": cycles,
        "problems": check(hub, events, known, start),
        "hub_seconds": hub.clock.seconds() - start,
    }


def check(hub: FakeHub, events: list, known: set[int], start: float) -> list[str]:
    """What the feed missed or repeated, against the hub's tasks."""
    keys = Counter((e.task["id"], e.new) for e in events)
    problems = [f"{key} reported {n} times" for key, n in keys.items() if n > 1]
    for task_id, row in hub.state.tasks.items():
        wanted = []
        if task_id not in known and row["create_ts"] > start:
            wanted.append("FREE")
        if row["start_ts"] is not None and row["start_ts"] > start:
            wanted.append("OPEN")
        completed = row["completion_ts"]
        if completed is not None and completed > start:
            wanted.append(FINISHED[row["state"]])
        problems += [
            f"{(task_id, new)} missed" for new in wanted if not keys[(task_id, new)]
        ]
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--interval", type=float, default=6.0)
    parser.add_argument("--warmup", type=float, default=30.0, help="hub minutes")
    args = parser.parse_args()

    async def main_(reactor: Any) -> None:
        report(args, await run(args.rate, args.minutes, args.interval, args.warmup))

    task.react(lambda reactor: defer.ensureDeferred(main_(reactor)))


def report(args: argparse.Namespace, result: dict) -> None:
    """Print the figures."""
    cycles = result["cycles"][1:]  # the first one meets the data's backlog
    events = sum(c["events"] for c in cycles)
    client = statistics.mean(c["client"] for c in cycles)
    hub = statistics.mean(c["hub"] for c in cycles)
    sim = statistics.mean(c["simulation"] for c in cycles)
    marks = statistics.mean(c["checkpoints"] for c in cycles)
    print(
        f"{args.minutes:g} hub minutes at rate {args.rate:g}, interval"
        f" {args.interval:g} s: {len(cycles)} cycles, {events} task events"
        f" ({events / (len(cycles) * args.interval):.1f}/s), requests per cycle"
        f" {max(c['requests'] for c in cycles)}"
    )
    print(
        f"client CPU per cycle: mean {client * 1000:.1f} ms, max"
        f" {max(c['client'] for c in cycles) * 1000:.1f} ms"
        f" = {client / args.interval:.1%} of one core;"
        f" hub per cycle {hub * 1000:.1f} ms; simulation {sim * 1000:.1f} ms"
    )
    print(
        f"of the client's CPU, encoding each event's checkpoint:"
        f" {marks * 1000:.1f} ms per cycle; the rest"
        f" {(client - marks) * 1000:.1f} ms = {(client - marks) / args.interval:.1%}"
        " of one core"
    )
    problems = result["problems"]
    print(f"missed or repeated: {len(problems)}", *problems[:10], sep="\n  ")


if __name__ == "__main__":
    main()
