"""Message-bus throughput: messages handled per second by txkoji.bus with
a trivial handler, per transport, next to the rate at which the broker
took the same messages from a publisher.

Runs its own RabbitMQ node (the tests' launcher, ``tests/rabbitmq.py``,
so ``rabbitmq-server`` must be installed: ``scripts/bootstrap tests``)::

    .venv/bin/python benchmarks/bus_bench.py [--proton N] [--fedora N] [--stomp N]

For each transport: declare a durable quorum queue (what a named
subscription uses), publish N messages as the hub does while nobody
consumes (the broker's publish rate), then subscribe and time until every
message was handled (txkoji's rate).  The stomp transport is measured on
that RabbitMQ (``rabbitmq_stomp``, the durable queue a first subscription
declares) and on an ActiveMQ (the tests' launcher, ``tests/activemq.py``:
a virtual topic's consumer queue), with persistent frames published as
Brew's.  Writes ``benchmarks/BUS_RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from twisted.internet import defer, task  # noqa: E402
from twisted.internet.threads import deferToThread  # noqa: E402

from tests import bus_messages, fedora_publish  # noqa: E402
from tests.activemq import ActiveMQ  # noqa: E402
from tests.bus_publish import publish_as_hub  # noqa: E402
from tests.rabbitmq import RabbitMQ  # noqa: E402
from tests.stomp_publish import publish_stomp  # noqa: E402
from txkoji.bus import subscribe  # noqa: E402

TOPIC_PREFIX = "org.fedoraproject.bench"


async def consume_rate(
    reactor: Any,
    broker: RabbitMQ,
    transport: str,
    queue: str,
    url: str,
    topics: list[str],
    count: int,
) -> float:
    """Subscribe to the filled ``queue`` and return messages handled per
    second until ``count`` were."""
    handled = []
    done: defer.Deferred = defer.Deferred()

    def handler(event: Any) -> None:
        handled.append(event.message_id)
        if len(handled) == count and not done.called:
            done.callback(time.perf_counter())

    started = time.perf_counter()
    sub = await subscribe(
        None,
        url,
        transport=transport,
        topics=topics,
        handler=handler,
        subscription=queue,
        # The test broker's password over plain TCP (loopback).
        allow_insecure_mechs=transport == "protonmsg",
    )
    finished = await done
    await sub.stop()
    return count / (finished - started)


def fedora_publish_rate(broker: RabbitMQ, directory: str, count: int) -> float:
    """Publish ``count`` Fedora messages with fedora-messaging in a child
    process; return messages per second (start-up excluded by timing a
    one-message run first)."""
    conf = os.path.join(directory, "fedora-messaging.toml")
    with open(conf, "w") as out:
        out.write(f'amqp_url = "{broker.url}"\ntopic_prefix = "{TOPIC_PREFIX}"\n')
    env = dict(os.environ, FEDORA_MESSAGING_CONF=conf, PYTHONPATH=ROOT)

    def run(messages: list) -> float:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "tests.fedora_publish"],
            check=True,
            input=json.dumps(messages).encode(),
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        return time.perf_counter() - started

    messages = fedora_publish.mixed_messages(count + 1)
    overhead = run(messages[:1])
    return count / max(run(messages[1:]) - overhead, 1e-9)


async def stomp_row(
    reactor: Any, label: str, url: str, publisher_url: str, prefix: str, count: int
) -> tuple:
    """Measure the stomp transport: a first subscription makes its durable
    queue, frames are published while nobody consumes, then consumed."""
    queue = "bench-stomp"
    topics = [prefix + ".>" if "VirtualTopic" in prefix else prefix + ".#"]
    sub = await subscribe(
        None,
        url,
        transport="stomp",
        topics=topics,
        handler=lambda event: None,
        subscription=queue,
    )
    await sub.stop()
    messages = bus_messages.mixed_messages(count)
    started = time.perf_counter()
    await deferToThread(publish_stomp, publisher_url, messages, prefix)
    published = count / (time.perf_counter() - started)
    handled = await consume_rate(reactor, None, "stomp", queue, url, topics, count)
    return (label, count, published, handled)


async def bench(reactor: Any, options: argparse.Namespace) -> None:
    directory = tempfile.mkdtemp(prefix="txkoji-busbench-")
    broker = RabbitMQ(directory)
    await deferToThread(broker.start)
    rows = []
    try:
        if options.proton:
            queue = "bench-proton"
            await deferToThread(broker.declare_queue, queue, ["koji.#"])
            messages = bus_messages.mixed_messages(options.proton)
            started = time.perf_counter()
            await deferToThread(publish_as_hub, broker.amqp1_url, messages)
            published = options.proton / (time.perf_counter() - started)
            handled = await consume_rate(
                reactor,
                broker,
                "protonmsg",
                queue,
                broker.amqp1_url,
                ["/topic/koji.#"],
                options.proton,
            )
            rows.append(
                ("protonmsg (AMQP 1.0, proton)", options.proton, published, handled)
            )
        if options.fedora:
            queue = "bench-fedora"
            await deferToThread(
                broker.declare_queue, queue, [f"{TOPIC_PREFIX}.buildsys.#"]
            )
            published = await deferToThread(
                fedora_publish_rate, broker, directory, options.fedora
            )
            handled = await consume_rate(
                reactor,
                broker,
                "fedora",
                queue,
                broker.url,
                [f"{TOPIC_PREFIX}.buildsys.#"],
                options.fedora,
            )
            rows.append(
                (
                    "fedora (AMQP 0.9.1, fedora-messaging)",
                    options.fedora,
                    published,
                    handled,
                )
            )
        if options.stomp:
            rows.append(
                await stomp_row(
                    reactor,
                    "stomp on RabbitMQ (stomp.py)",
                    broker.stomp_url,
                    broker.stomp_url,
                    "/topic/koji",
                    options.stomp,
                )
            )
            activemq = ActiveMQ(os.path.join(directory, "activemq"))
            await deferToThread(activemq.start)
            try:
                rows.append(
                    await stomp_row(
                        reactor,
                        "stomp on ActiveMQ (stomp.py)",
                        activemq.url,
                        activemq.publisher_url,
                        "/topic/VirtualTopic.eng.brew",
                        options.stomp,
                    )
                )
            finally:
                await deferToThread(activemq.stop)
    finally:
        await deferToThread(broker.close)
        shutil.rmtree(directory, ignore_errors=True)
    report = render(rows)
    print(report)
    with open(options.output, "w") as out:
        out.write(report)


def render(rows: list[tuple]) -> str:
    lines = [
        "# Message-bus throughput",
        "",
        "Written by `benchmarks/bus_bench.py`: RabbitMQ "
        "(Debian's rabbitmq-server, a durable quorum queue; for stomp the "
        "durable queue its plugin declares) and ActiveMQ 5.17 (a virtual "
        "topic's consumer queue, persistent frames), trivial handler, "
        f"{os.cpu_count()} cores shared with whatever else runs.",
        "",
        "| transport | messages | broker took (msg/s) | txkoji handled (msg/s) |",
        "|---|---:|---:|---:|",
    ]
    for name, count, published, handled in rows:
        lines.append(f"| {name} | {count} | {published:,.0f} | {handled:,.0f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--proton", type=int, default=5000, help="protonmsg messages (0 to skip)"
    )
    parser.add_argument(
        "--fedora", type=int, default=300, help="fedora messages (0 to skip)"
    )
    parser.add_argument(
        "--stomp", type=int, default=5000, help="stomp messages (0 to skip)"
    )
    parser.add_argument(
        "--output", default=os.path.join(ROOT, "benchmarks", "BUS_RESULTS.md")
    )
    options = parser.parse_args()
    task.react(lambda reactor: defer.ensureDeferred(bench(reactor, options)))


if __name__ == "__main__":
    main()
