"""The protonmsg transport against a real RabbitMQ (AMQP 1.0 plugin), with
messages published as the hub's protonmsg plugin publishes them."""

from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet.threads import deferToThread

from tests.bus_helpers import Recorder, restart_twice_midstream, unique, wait_for
from tests.bus_messages import dataset_messages, mixed_messages
from tests.bus_publish import publish_as_hub
from txkoji import Connection
from txkoji.bus import events, subscribe
from txkoji.bus.protonmsg import message_id_of
from txkoji.exceptions import KojiBusError
from txkoji.messages import BuildStateChange, TagUntag, TaskStateChange

WEBURL = "https://koji.example.com/koji"


def ids_of(messages) -> list[str]:
    return [message_id_of(None, properties, body) for _, properties, body in messages]


@pytest_twisted.ensureDeferred
async def test_hub_messages_arrive_as_events(rabbitmq, hub_server):
    koji = Connection(server=hub_server.url, weburl=WEBURL)
    name = unique("events")
    await deferToThread(rabbitmq.declare_queue, name, ["koji.#"])
    recorder = Recorder()
    sub = await subscribe(
        koji,
        rabbitmq.amqp1_url,
        transport="protonmsg",
        topics=["/topic/koji.#"],
        handler=recorder,
        subscription=name,
        allow_insecure_mechs=True,
    )
    messages = dataset_messages()
    await deferToThread(publish_as_hub, rabbitmq.amqp1_url, messages)
    expected = set(ids_of(messages))
    await wait_for(lambda: recorder.handled >= expected, "every dataset message")
    await sub.stop()

    assert len(expected) == len(messages)
    assert sub.stats.handled == len(recorder.seen) >= len(messages)
    assert (sub.stats.malformed, sub.stats.rejected, sub.stats.redelivered) == (0, 0, 0)
    events = dict(recorder.seen)
    kinds = {type(event) for event in events.values()}
    assert kinds == {BuildStateChange, TaskStateChange, TagUntag}
    assert all(event.connection is koji for event in events.values())
    completed = [
        e
        for e in events.values()
        if isinstance(e, BuildStateChange) and e.event == "COMPLETE"
    ]
    assert completed and all(
        e.url.startswith(WEBURL + "/buildinfo?buildID=") for e in completed
    )
    # The event reads its full record from the hub when asked.
    task_event = next(e for e in events.values() if isinstance(e, TaskStateChange))
    info = await koji.getTaskInfo(task_event.task.id)
    await koji.close()
    assert info["method"] == task_event.task.method
    assert await deferToThread(rabbitmq.queue_depth, name) == 0


async def start(koji, rabbitmq, name, handler, **options):
    return await start_at(koji, rabbitmq.amqp1_url, name, handler, **options)


async def start_at(koji, url, name, handler, **options):
    options.setdefault("allow_insecure_mechs", url.startswith("amqp://"))
    return await subscribe(
        koji,
        url,
        transport="protonmsg",
        topics=["/topic/koji.#"],
        handler=handler,
        subscription=name,
        **options,
    )


@pytest_twisted.ensureDeferred
async def test_failing_handler_sees_redelivery_while_others_flow(rabbitmq):
    koji = Connection(server="https://koji.example.com/kojihub")
    name = unique("redeliver")
    await deferToThread(rabbitmq.declare_queue, name, ["koji.#"])
    messages = dataset_messages()
    target = ids_of(messages)[5]
    recorder = Recorder(
        fail=lambda event, attempt: event.message_id == target and attempt <= 3
    )
    sub = await start(koji, rabbitmq, name, recorder)
    await deferToThread(publish_as_hub, rabbitmq.amqp1_url, messages)
    expected = set(ids_of(messages))
    await wait_for(lambda: recorder.handled >= expected, "every message")
    await sub.stop()

    assert recorder.attempts(target) == 4
    assert sub.stats.redelivered == 3
    assert sub.stats.rejected == 0
    # The other messages did not wait for the failing one to get through.
    last_failure = max(i for i, (mid, _) in enumerate(recorder.seen) if mid == target)
    others_before = {mid for mid, _ in recorder.seen[:last_failure] if mid != target}
    assert others_before


@pytest_twisted.ensureDeferred
async def test_handler_failing_too_often_is_rejected_and_dead_lettered(rabbitmq):
    koji = Connection(server="https://koji.example.com/kojihub")
    name = unique("reject")
    dead = name + "-dead"
    await deferToThread(
        rabbitmq.declare_queue, name, ["koji.#"], dead_letter_queue=dead
    )
    messages = dataset_messages()[:20]
    target = ids_of(messages)[3]
    recorder = Recorder(fail=lambda event, attempt: event.message_id == target)
    sub = await start(koji, rabbitmq, name, recorder, max_redeliveries=2)
    await deferToThread(publish_as_hub, rabbitmq.amqp1_url, messages)
    others = set(ids_of(messages)) - {target}
    await wait_for(
        lambda: recorder.handled >= others and sub.stats.rejected == 1, "the rejection"
    )
    await sub.stop()

    assert recorder.attempts(target) == 3
    assert (sub.stats.redelivered, sub.stats.rejected) == (2, 1)
    assert target not in recorder.handled
    assert await deferToThread(rabbitmq.queue_depth, dead) == 1
    assert await deferToThread(rabbitmq.queue_depth, name) == 0


@pytest_twisted.ensureDeferred
async def test_stopping_mid_stream_loses_nothing(rabbitmq):
    koji = Connection(server="https://koji.example.com/kojihub")
    name = unique("handover")
    await deferToThread(rabbitmq.declare_queue, name, ["koji.#"])
    messages = mixed_messages(2000)
    expected = set(ids_of(messages))
    first = Recorder()
    sub = await start(koji, rabbitmq, name, first, prefetch=50)
    publishing = deferToThread(publish_as_hub, rabbitmq.amqp1_url, messages)
    await wait_for(lambda: len(first.handled) >= 200, "the first 200 messages")
    await sub.stop()
    stopped_at = len(first.handled)
    second = Recorder()
    sub = await start(koji, rabbitmq, name, second)
    await publishing
    await wait_for(lambda: first.handled | second.handled >= expected, "every message")
    await sub.stop()

    assert stopped_at < len(messages)
    assert len(first.handled) == stopped_at  # nothing handled after stop()
    assert second.handled
    assert first.handled | second.handled == expected


@pytest_twisted.ensureDeferred
async def test_malformed_messages_are_counted_and_dropped(rabbitmq):
    koji = Connection(server="https://koji.example.com/kojihub")
    name = unique("malformed")
    await deferToThread(rabbitmq.declare_queue, name, ["koji.#"])
    good = dataset_messages()[0]
    build_props = dict(good[1])
    malformed = [
        (
            "build.complete",
            {**build_props, "type": "NoSuchType"},
            good[2],
        ),  # unknown type
        (
            "build.complete",
            {k: v for k, v in build_props.items() if k != "type"},
            good[2],
        ),
        ("build.complete", build_props, "{not json"),  # body not JSON
        ("build.complete", build_props, "[1, 2, 3]"),  # JSON, not an object
        ("build.complete", build_props, b"\xff\xfe binary"),  # not UTF-8
        ("build.complete", build_props, '{"attribute": "state"}'),  # no build record
        ("task.closed", {"type": "TaskStateChange", "new": "CLOSED"}, '{"info": 7}'),
    ]
    recorder = Recorder()
    sub = await start(koji, rabbitmq, name, recorder)
    await deferToThread(publish_as_hub, rabbitmq.amqp1_url, malformed + [good])
    await wait_for(
        lambda: sub.stats.malformed == len(malformed) and recorder.handled,
        "every message",
    )
    await sub.stop()

    assert sub.stats.handled == 1
    assert [type(event) for _, event in recorder.seen] == [BuildStateChange]
    assert await deferToThread(rabbitmq.queue_depth, name) == 0


#: Messages of the restart test (the issue's figure).
RESTART_MESSAGES = 10_000


@pytest_twisted.ensureDeferred
async def test_every_message_handled_across_two_broker_restarts(
    rabbitmq, record_property
):
    koji = Connection(server="https://koji.example.com/kojihub")
    name = unique("restarts")
    await deferToThread(rabbitmq.declare_queue, name, ["koji.#"])
    messages = mixed_messages(RESTART_MESSAGES)
    expected = set(ids_of(messages))
    recorder = Recorder()
    sub = await start(koji, rabbitmq, name, recorder)
    publishing = deferToThread(publish_as_hub, rabbitmq.amqp1_url, messages)
    await restart_twice_midstream(rabbitmq, recorder, len(messages))
    rounds = await publishing
    await wait_for(lambda: recorder.handled >= expected, "every message")
    await sub.stop()

    assert len(expected) == RESTART_MESSAGES
    assert recorder.handled == expected
    duplicates = len(recorder.seen) - len(expected)
    record_property("publish_rounds", rounds)
    record_property("handled_twice", duplicates)
    print(
        f"\n{RESTART_MESSAGES} messages, 2 broker restarts: all handled, "
        f"{duplicates} handled more than once, publisher needed {rounds} rounds"
    )


@pytest_twisted.ensureDeferred
async def test_tls_with_client_certificate(rabbitmq):
    koji = Connection(server="https://koji.example.com/kojihub")
    name = unique("tls")
    await deferToThread(rabbitmq.declare_queue, name, ["koji.#"])
    pki = rabbitmq.pki
    url = f"amqps://{rabbitmq.user}:{rabbitmq.password}@localhost:{rabbitmq.tls_port}"
    recorder = Recorder()
    sub = await start_at(
        koji,
        url,
        name,
        recorder,
        ssl_cert=str(pki.client_cert),
        ssl_key=str(pki.client_key),
        ssl_ca=str(pki.ca_cert),
    )
    messages = dataset_messages()[:5]
    await deferToThread(publish_as_hub, rabbitmq.amqp1_url, messages)
    await wait_for(
        lambda: recorder.handled >= set(ids_of(messages)), "the messages over TLS"
    )
    await sub.stop()
    assert sub.stats.handled == len(messages)


@pytest_twisted.ensureDeferred
async def test_tls_without_client_certificate_is_refused(rabbitmq):
    koji = Connection(server="https://koji.example.com/kojihub")
    url = f"amqps://{rabbitmq.user}:{rabbitmq.password}@localhost:{rabbitmq.tls_port}"
    with pytest.raises(KojiBusError, match="cannot subscribe"):
        await start_at(
            koji, url, unique("tls"), Recorder(), ssl_ca=str(rabbitmq.pki.ca_cert)
        )


@pytest_twisted.ensureDeferred
async def test_missing_queue_is_refused(rabbitmq):
    koji = Connection(server="https://koji.example.com/kojihub")
    with pytest.raises(KojiBusError, match="refused|closed"):
        await start(koji, rabbitmq, unique("nowhere"), Recorder())


@pytest_twisted.ensureDeferred
async def test_events_as_async_iterator(rabbitmq):
    koji = Connection(server="https://koji.example.com/kojihub")
    name = unique("stream")
    await deferToThread(rabbitmq.declare_queue, name, ["koji.#"])
    stream = events(
        koji,
        rabbitmq.amqp1_url,
        transport="protonmsg",
        topics=["/topic/koji.#"],
        subscription=name,
        allow_insecure_mechs=True,
    )
    messages = dataset_messages()[:10]
    publishing = deferToThread(publish_as_hub, rabbitmq.amqp1_url, messages)
    seen = []
    async for event in stream:
        seen.append(event.message_id)
        if len(seen) == 4:
            break
    await stream.stop()
    await publishing
    # The fourth was being looked at when the loop left: it goes back.
    assert stream.stats.handled == 3
    rest = Recorder()
    sub = await start(koji, rabbitmq, name, rest)
    expected = set(ids_of(messages))
    await wait_for(lambda: rest.handled | set(seen[:3]) >= expected, "the rest")
    await sub.stop()
    assert seen[3] in rest.handled
