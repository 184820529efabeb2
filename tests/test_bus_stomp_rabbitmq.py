"""The stomp transport against a real RabbitMQ (its STOMP plugin): durable
queues named for the subscription, the virtual host from the URL, local
redelivery and the broker restarting mid-stream."""

from __future__ import annotations

import time

import pytest
import pytest_twisted
from twisted.internet.threads import deferToThread

from tests.bus_helpers import Recorder, restart_twice_midstream, unique, wait_for
from tests.bus_messages import dataset_messages, mixed_messages
from tests.stomp_helpers import (
    content_key,
    duplicates,
    handled_keys,
    message_keys,
    start_stomp,
)
from tests.stomp_publish import publish_stomp
from txkoji import Connection
from txkoji.exceptions import KojiBusError

KOJI = ["/topic/koji.#"]
PREFIX = "/topic/koji"


def koji_connection() -> Connection:
    return Connection(server="https://koji.example.com/kojihub")


@pytest_twisted.ensureDeferred
async def test_durable_queue_keeps_messages_while_away(rabbitmq):
    koji = koji_connection()
    name = unique("stomp-away")
    sub = await start_stomp(
        koji, rabbitmq.stomp_url, KOJI, Recorder(), subscription=name
    )
    await sub.stop()
    messages = dataset_messages()
    await deferToThread(publish_stomp, rabbitmq.stomp_url, messages, PREFIX)
    # The queue x-queue-name declared is durable and outlived the consumer.
    assert await deferToThread(rabbitmq.queue_depth, name) == len(messages)
    recorder = Recorder()
    sub = await start_stomp(koji, rabbitmq.stomp_url, KOJI, recorder, subscription=name)
    expected = set(message_keys(messages))
    await wait_for(lambda: handled_keys(recorder) >= expected, "the kept messages")
    await sub.stop()
    assert sub.stats.handled == len(messages)
    assert await deferToThread(rabbitmq.queue_depth, name) == 0


@pytest_twisted.ensureDeferred
async def test_failing_handler_is_retried_then_dropped(rabbitmq):
    koji = koji_connection()
    name = unique("stomp-retry")
    messages = dataset_messages()[:20]
    keys = message_keys(messages)
    flaky, hopeless = keys[2], keys[7]

    def fail(event, attempt):
        key = content_key(event)
        return key == hopeless or (key == flaky and attempt <= 2)

    recorder = Recorder(fail=fail)
    sub = await start_stomp(
        koji,
        rabbitmq.stomp_url,
        KOJI,
        recorder,
        subscription=name,
        max_redeliveries=3,
    )
    await deferToThread(publish_stomp, rabbitmq.stomp_url, messages, PREFIX)
    await wait_for(
        lambda: (
            handled_keys(recorder) >= set(keys) - {hopeless} and sub.stats.rejected == 1
        ),
        "the retries",
    )
    await sub.stop()
    tries = [content_key(e) for _, e in recorder.seen]
    assert (tries.count(flaky), tries.count(hopeless)) == (3, 4)
    assert (sub.stats.redelivered, sub.stats.rejected) == (2 + 3, 1)
    # NACKed without requeue: gone from the queue (no dead-letter exchange).
    assert await deferToThread(rabbitmq.queue_depth, name) == 0


@pytest_twisted.ensureDeferred
async def test_unknown_virtual_host_is_refused(rabbitmq):
    url = rabbitmq.stomp_url.rsplit("/", 1)[0] + "/no-such-vhost"
    with pytest.raises(KojiBusError, match="refused") as caught:
        await start_stomp(koji_connection(), url, KOJI, Recorder())
    assert f"{rabbitmq.user}@" in str(caught.value)
    assert rabbitmq.password not in str(caught.value)


@pytest_twisted.ensureDeferred
async def test_every_message_handled_across_two_broker_restarts(
    rabbitmq, record_property
):
    koji = koji_connection()
    name = unique("stomp-restarts")
    messages = mixed_messages(10_000)
    expected = set(message_keys(messages))
    recorder = Recorder()
    sub = await start_stomp(koji, rabbitmq.stomp_url, KOJI, recorder, subscription=name)
    began = time.monotonic()
    publishing = deferToThread(publish_stomp, rabbitmq.stomp_url, messages, PREFIX)
    await restart_twice_midstream(rabbitmq, recorder, len(messages))
    rounds = await publishing
    await wait_for(lambda: handled_keys(recorder) >= expected, "every message")
    elapsed = time.monotonic() - began
    await sub.stop()

    assert handled_keys(recorder) == expected
    redelivered, republished = duplicates(recorder)
    record_property("handled_again_redelivered", redelivered)
    record_property("handled_again_republished", republished)
    print(
        f"\nrabbitmq stomp: {len(expected)} messages, 2 broker restarts: 0 lost; "
        f"handled again: {redelivered} redelivered by the broker, "
        f"{republished} sent twice by the publisher ({rounds} rounds); "
        f"{len(expected) / elapsed:.0f} messages/s"
    )
