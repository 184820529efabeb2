"""The stomp transport against a real ActiveMQ, with frames published as
Brew's messages reach UMB's STOMP consumers (virtual topics
``VirtualTopic.eng.brew.*``, the properties as text headers)."""

from __future__ import annotations

import json
import time

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThread

from tests.activemq import PASSWORD, USER
from tests.bus_helpers import Recorder, unique, wait_for
from tests.bus_messages import dataset_messages, mixed_messages
from tests.cli_helpers import CollectOutput, spawn_txkoji
from tests.stomp_helpers import (
    content_key,
    duplicates,
    handled_keys,
    message_keys,
    start_stomp,
)
from tests.stomp_publish import brew_frame, publish_frames, publish_stomp
from txkoji import Connection
from txkoji.exceptions import KojiBusError
from txkoji.messages import BuildStateChange, TagUntag, TaskStateChange

WEBURL = "https://brewweb.example.com/brew"
#: Every Brew message, as UMB consumers read them.
BREW = ["/topic/VirtualTopic.eng.brew.>"]
#: Tries, and seconds each, for the command's subscription to go live.
LIVE_TRIES = 60
LIVE_WAIT = 1.0


def koji_connection() -> Connection:
    return Connection(server="https://brew.example.com/brewhub", weburl=WEBURL)


@pytest_twisted.ensureDeferred
async def test_brew_frames_arrive_as_events(activemq):
    koji = koji_connection()
    recorder = Recorder()
    sub = await start_stomp(
        koji, activemq.url, BREW, recorder, subscription=unique("events")
    )
    messages = dataset_messages()
    await deferToThread(publish_stomp, activemq.publisher_url, messages)
    expected = set(message_keys(messages))
    await wait_for(lambda: handled_keys(recorder) >= expected, "every message")
    await sub.stop()

    assert len(expected) == len(messages)
    assert sub.stats.handled == len(recorder.seen) == len(messages)
    assert (sub.stats.malformed, sub.stats.rejected, sub.stats.redelivered) == (0, 0, 0)
    events = dict(recorder.seen)
    assert {type(e) for e in events.values()} == {
        BuildStateChange,
        TaskStateChange,
        TagUntag,
    }
    assert all(e.connection is koji for e in events.values())
    assert all(mid.startswith("ID:") for mid in events)
    built = [e for e in events.values() if isinstance(e, BuildStateChange)]
    assert all(e.url.startswith(WEBURL + "/buildinfo?buildID=") for e in built)
    # The frame as received: Brew's text headers, the JSON body.
    frame = built[0].frame
    assert frame.headers["type"] == "BuildStateChange"
    assert frame.headers["message-id"] == built[0].message_id
    assert frame.headers["destination"].startswith(
        "/queue/Consumer.events-"
    ) or frame.headers["destination"].startswith("/topic/VirtualTopic.eng.brew.")
    assert frame.body.startswith("{")


@pytest_twisted.ensureDeferred
async def test_durable_virtual_topic_keeps_messages_while_away(activemq):
    koji = koji_connection()
    name = unique("away")
    first = Recorder()
    sub = await start_stomp(koji, activemq.url, BREW, first, subscription=name)
    await sub.stop()
    messages = dataset_messages()[:30]
    # Published while no consumer is connected: the queue
    # Consumer.<name>.VirtualTopic.eng.brew.> keeps them.
    await deferToThread(publish_stomp, activemq.publisher_url, messages)
    second = Recorder()
    sub = await start_stomp(koji, activemq.url, BREW, second, subscription=name)
    expected = set(message_keys(messages))
    await wait_for(lambda: handled_keys(second) >= expected, "the kept messages")
    await sub.stop()
    assert first.seen == []
    assert handled_keys(second) == expected


@pytest_twisted.ensureDeferred
async def test_durable_topic_subscription_keeps_messages_while_away(activemq):
    koji = koji_connection()
    name = unique("durable")
    topics = ["/topic/eng.brew.>"]
    sub = await start_stomp(koji, activemq.url, topics, Recorder(), subscription=name)
    await sub.stop()
    messages = dataset_messages()[:20]
    await deferToThread(
        publish_stomp, activemq.publisher_url, messages, "/topic/eng.brew"
    )
    recorder = Recorder()
    sub = await start_stomp(koji, activemq.url, topics, recorder, subscription=name)
    expected = set(message_keys(messages))
    await wait_for(lambda: handled_keys(recorder) >= expected, "the kept messages")
    await sub.stop()
    assert handled_keys(recorder) == expected


@pytest_twisted.ensureDeferred
async def test_failing_handler_sees_redelivery_while_others_flow(activemq):
    koji = koji_connection()
    messages = dataset_messages()
    target = message_keys(messages)[5]
    recorder = Recorder(
        fail=lambda event, attempt: content_key(event) == target and attempt <= 3
    )
    sub = await start_stomp(
        koji, activemq.url, BREW, recorder, subscription=unique("redeliver")
    )
    await deferToThread(publish_stomp, activemq.publisher_url, messages)
    expected = set(message_keys(messages))
    await wait_for(lambda: handled_keys(recorder) >= expected, "every message")
    await sub.stop()

    target_id = next(mid for mid, e in recorder.seen if content_key(e) == target)
    assert recorder.attempts(target_id) == 4
    assert (sub.stats.redelivered, sub.stats.rejected) == (3, 0)
    last_failure = max(
        i for i, (mid, _) in enumerate(recorder.seen) if mid == target_id
    )
    first_failure = min(
        i for i, (mid, _) in enumerate(recorder.seen) if mid == target_id
    )
    # Other messages were handled between the failures.
    assert last_failure - first_failure > 3


async def dead_letters(koji, activemq, wanted: set) -> set:
    """Read ActiveMQ.DLQ until the frames about ``wanted`` turned up; return
    the content keys found (other tests' dead letters are left alone)."""
    found: set = set()

    def take(event):
        key = content_key(event)
        if key not in wanted:
            raise RuntimeError("another test's dead letter")
        found.add(key)

    sub = await start_stomp(
        koji, activemq.url, ["/queue/ActiveMQ.DLQ"], take, max_redeliveries=0
    )
    await wait_for(lambda: found >= wanted, "the dead letters", limit=60)
    await sub.stop()
    return found


@pytest_twisted.ensureDeferred
async def test_handler_failing_too_often_ends_in_the_dead_letter_queue(activemq):
    koji = koji_connection()
    messages = dataset_messages()[:20]
    keys = message_keys(messages)
    target = keys[3]
    recorder = Recorder(fail=lambda event, attempt: content_key(event) == target)
    sub = await start_stomp(
        koji,
        activemq.url,
        BREW,
        recorder,
        subscription=unique("reject"),
        max_redeliveries=2,
    )
    await deferToThread(publish_stomp, activemq.publisher_url, messages)
    others = set(keys) - {target}
    await wait_for(
        lambda: handled_keys(recorder) >= others and sub.stats.rejected == 1,
        "the rejection",
    )
    await sub.stop()

    assert len([e for _, e in recorder.seen if content_key(e) == target]) == 3
    assert (sub.stats.redelivered, sub.stats.rejected) == (2, 1)
    assert await dead_letters(koji, activemq, {target}) == {target}


@pytest_twisted.ensureDeferred
async def test_malformed_frames_are_counted_and_dropped(activemq):
    koji = koji_connection()
    good = dataset_messages()[0]
    destination, headers, body = brew_frame(good)
    malformed = [
        (destination, {**headers, "type": "NoSuchType"}, body),
        (destination, {k: v for k, v in headers.items() if k != "type"}, body),
        (destination, headers, "{not json"),
        (destination, headers, "[1, 2, 3]"),
        (destination, headers, '{"attribute": "state"}'),
        (destination, {"type": "TaskStateChange", "new": "CLOSED"}, '{"info": 7}'),
    ]
    recorder = Recorder()
    sub = await start_stomp(
        koji, activemq.url, BREW, recorder, subscription=unique("malformed")
    )
    await deferToThread(
        publish_frames, activemq.publisher_url, malformed + [brew_frame(good)]
    )
    await wait_for(
        lambda: sub.stats.malformed == len(malformed) and recorder.handled,
        "every frame",
    )
    await sub.stop()
    assert sub.stats.handled == 1
    assert [type(event) for _, event in recorder.seen] == [BuildStateChange]


#: Messages of the restart test (the issue's figure).
RESTART_MESSAGES = 10_000


@pytest_twisted.ensureDeferred
async def test_every_message_handled_across_two_broker_restarts(
    activemq, record_property
):
    koji = koji_connection()
    messages = mixed_messages(RESTART_MESSAGES)
    expected = set(message_keys(messages))
    recorder = Recorder()
    sub = await start_stomp(
        koji, activemq.url, BREW, recorder, subscription=unique("restarts")
    )
    began = time.monotonic()
    publishing = deferToThread(publish_stomp, activemq.publisher_url, messages)
    for share in (0.2, 0.5):
        await wait_for(
            lambda share=share: len(recorder.handled) >= share * len(messages),
            f"{share:.0%} of the messages handled",
        )
        await deferToThread(activemq.restart)
    rounds = await publishing
    await wait_for(lambda: handled_keys(recorder) >= expected, "every message")
    elapsed = time.monotonic() - began
    await sub.stop()

    assert len(expected) == RESTART_MESSAGES
    assert handled_keys(recorder) == expected
    redelivered, republished = duplicates(recorder)
    record_property("handled_again_redelivered", redelivered)
    record_property("handled_again_republished", republished)
    print(
        f"\nactivemq stomp: {len(expected)} messages, 2 broker restarts: 0 lost; "
        f"handled again: {redelivered} redelivered by the broker, "
        f"{republished} sent twice by the publisher ({rounds} rounds); "
        f"{len(expected) / elapsed:.0f} messages/s"
    )


@pytest_twisted.ensureDeferred
async def test_tls_with_client_certificate(activemq):
    koji = koji_connection()
    pki = activemq.pki
    url = f"stomp+ssl://{USER}:{PASSWORD}@localhost:{activemq.tls_port}"
    recorder = Recorder()
    sub = await start_stomp(
        koji,
        url,
        BREW,
        recorder,
        subscription=unique("tls"),
        ssl_cert=str(pki.client_cert),
        ssl_key=str(pki.client_key),
        ssl_ca=str(pki.ca_cert),
    )
    messages = dataset_messages()[:5]
    await deferToThread(publish_stomp, activemq.publisher_url, messages)
    expected = set(message_keys(messages))
    await wait_for(lambda: handled_keys(recorder) >= expected, "the frames over TLS")
    await sub.stop()
    assert sub.stats.handled == len(messages)


@pytest_twisted.ensureDeferred
async def test_tls_without_client_certificate_is_refused(activemq):
    url = f"stomp+ssl://{USER}:{PASSWORD}@localhost:{activemq.tls_port}"
    with pytest.raises(KojiBusError, match="cannot subscribe|hung up"):
        await start_stomp(
            koji_connection(), url, BREW, Recorder(), ssl_ca=str(activemq.pki.ca_cert)
        )


@pytest_twisted.ensureDeferred
async def test_wrong_password_is_refused(activemq):
    url = f"stomp://{USER}:wrong@127.0.0.1:{activemq.port}"
    with pytest.raises(KojiBusError, match="refused|cannot subscribe") as caught:
        await start_stomp(koji_connection(), url, BREW, Recorder())
    assert "wrong" not in str(caught.value)


@pytest_twisted.ensureDeferred
async def test_txkoji_events_reads_the_stomp_bus(activemq, hub_server):
    collect = CollectOutput()
    name = unique("cli")
    args = ["--server", hub_server.url, "events", "--json", "--bus", activemq.url]
    args += ["--transport", "stomp", "--subscription", name]
    process = spawn_txkoji(collect, args)
    messages = dataset_messages()[:12]

    def printed() -> int:
        return collect.out.count(b"\n")

    # The command says nothing once it has subscribed: publish the first
    # message until one event is printed (its subscription is live), then
    # the rest.  (Messages kept while a subscriber is away are the durable
    # tests' subject, above.)
    for _ in range(LIVE_TRIES):
        await deferToThread(publish_stomp, activemq.publisher_url, messages[:1])
        deadline = time.monotonic() + LIVE_WAIT
        while not (printed() or collect.ended.called) and time.monotonic() < deadline:
            await deferLater(reactor, 0.05, lambda: None)
        if printed() or collect.ended.called:
            break
    assert printed(), collect.err
    await deferToThread(publish_stomp, activemq.publisher_url, messages[1:])
    await wait_for(
        lambda: printed() >= len(messages) or collect.ended.called, "every event"
    )
    process.signalProcess("INT")
    code = await collect.ended
    records = [json.loads(line) for line in collect.out.decode().splitlines()]
    ids = [r["message_id"] for r in records]
    assert len(set(ids)) == len(ids) >= len(messages), collect.err
    assert all(mid.startswith("ID:") for mid in ids)
    assert code == 130
    assert f"subscription {name}" in collect.err.decode()
