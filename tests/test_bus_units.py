"""txkoji.bus without a broker: argument checks, addresses, message ids,
Fedora shapes and the dispatcher's decisions."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import pytest_twisted
from twisted.internet import defer
from twisted.internet.task import Clock

from tests.bus_messages import dataset_messages
from tests.fake_connection import FakeConnection
from txkoji.bus import TRANSPORTS, EventStream, subscribe
from txkoji.bus.dispatch import STOP_GRACE, Dispatcher, Outcome
from txkoji.bus.fedora_shapes import fedora_event
from txkoji.bus.protonmsg import message_id_of, safe_url, sources_for
from txkoji.exceptions import KojiBusError
from txkoji.messages import (
    BuildStateChange,
    MalformedMessage,
    TagUntag,
    UnknownMessageType,
    parse_message,
)


def test_transports():
    assert TRANSPORTS == ("protonmsg", "fedora", "stomp")


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"transport": "mqtt"}, "unknown bus transport 'mqtt'"),
        ({"topics": "/topic/koji.#"}, "topics must be a list of strings"),
        ({"topics": []}, "at least one topic"),
        ({"max_redeliveries": -1}, "max_redeliveries must be"),
        ({"prefetch": 0}, "prefetch must be"),
        (
            {"topics": ["/topic/koji.#", "topic://koji.>"]},
            "topics mix RabbitMQ and other broker addresses",
        ),
    ],
)
@pytest_twisted.ensureDeferred
async def test_bad_arguments_fail_the_deferred(options, error):
    arguments = {"transport": "protonmsg", "topics": ["/topic/koji.#"], **options}
    with pytest.raises(KojiBusError, match=error):
        await subscribe(None, "amqp://127.0.0.1:1", handler=print, **arguments)


def test_sources_by_broker():
    assert sources_for(["/topic/koji.#"], None) == ["/topic/koji.#"]
    assert sources_for(["/topic/koji.#"], "bot") == ["/amq/queue/bot"]
    assert sources_for(["topic://koji.>"], "bot") == ["topic://koji.>"]


def test_safe_url_drops_the_password():
    assert safe_url("amqps://bot:s3cret@broker:5671") == "amqps://bot@broker:5671"
    assert safe_url("amqp://broker") == "amqp://broker"


def test_message_id_is_the_amqp_id_or_a_stable_digest():
    _, properties, body = dataset_messages()[0]
    assert message_id_of("abc", properties, body) == "abc"
    digest = message_id_of(None, properties, body)
    assert digest.startswith("sha256:")
    assert digest == message_id_of(None, dict(reversed(properties.items())), body)
    assert digest != message_id_of(None, {**properties, "new": "FAILED"}, body)


def test_fedora_build_state_change_becomes_the_event():
    body = {
        "name": "bash",
        "version": "5.2.26",
        "release": "1.fc40",
        "epoch": None,
        "attribute": "state",
        "old": 0,
        "new": 1,
        "build_id": 1001,
        "task_id": 50001,
        "owner": "alice",
        "instance": "primary",
    }
    koji = FakeConnection()
    event = fedora_event(
        "org.fedoraproject.prod.buildsys.build.state.change", body, koji
    )
    assert isinstance(event, BuildStateChange)
    assert (event.event, event.old) == ("COMPLETE", "BUILDING")
    assert event.build.id == 1001
    assert event.build.nvr == "bash-5.2.26-1.fc40"


def test_fedora_tag_becomes_the_event():
    body = {
        "build_id": 1001,
        "name": "bash",
        "version": "5.2.26",
        "release": "1.fc40",
        "tag_id": 1,
        "tag": "f40",
        "user": "alice",
        "owner": "alice",
    }
    event = fedora_event(
        "org.fedoraproject.prod.buildsys.untag", body, FakeConnection()
    )
    assert isinstance(event, TagUntag)
    assert (event.event, event.tag) == ("Untag", "f40")


@pytest.mark.parametrize(
    ("topic", "body", "error"),
    [
        ("org.fedoraproject.prod.buildsys.heartbeat", {}, UnknownMessageType),
        ("org.fedoraproject.prod.buildsys.tag", ["x"], MalformedMessage),
        ("org.fedoraproject.prod.buildsys.tag", {"tag": 5}, MalformedMessage),
        ("org.fedoraproject.prod.buildsys.task.state.change", {}, MalformedMessage),
        (
            "org.fedoraproject.prod.buildsys.build.state.change",
            {"name": "bash"},
            MalformedMessage,
        ),
    ],
)
def test_fedora_shapes_refuse_what_they_cannot_read(topic, body, error):
    with pytest.raises(error):
        fedora_event(topic, body, FakeConnection())


def parse_first(connection):
    _, properties, body = dataset_messages()[0]
    return parse_message(
        {"properties": properties, "body": json.loads(body)}, connection
    )


@pytest_twisted.ensureDeferred
async def test_dispatcher_counts_and_decides():
    koji = FakeConnection()
    failures = []

    def handler(event):
        if len(failures) < 2:
            failures.append(event)
            return defer.fail(RuntimeError("not yet"))
        return None

    dispatcher = Dispatcher(koji, handler, max_redeliveries=2)
    outcomes = [
        await dispatcher.deliver("build.complete", "m1", parse_first) for _ in range(3)
    ]
    assert outcomes == [Outcome.RELEASE, Outcome.RELEASE, Outcome.ACCEPT]
    assert failures[0].message_id == "m1"
    assert failures[0].connection is koji

    def broken(connection):
        raise MalformedMessage("no such thing")

    assert await dispatcher.deliver("x.y", "m2", broken) is Outcome.REJECT
    stats = dispatcher.stats
    assert (stats.handled, stats.redelivered, stats.malformed, stats.rejected) == (
        1,
        2,
        1,
        0,
    )


@pytest_twisted.ensureDeferred
async def test_dispatcher_rejects_after_max_redeliveries():
    async def handler(event):
        raise RuntimeError("never")

    dispatcher = Dispatcher(FakeConnection(), handler, max_redeliveries=1)
    outcomes = [await dispatcher.deliver("t", "m", parse_first) for _ in range(2)]
    assert outcomes == [Outcome.RELEASE, Outcome.REJECT]
    assert (dispatcher.stats.redelivered, dispatcher.stats.rejected) == (1, 1)


def test_a_handler_that_never_finishes_fails_after_the_timeout():
    clock = Clock()
    hung = []

    def handler(event):
        hung.append(defer.Deferred())
        return hung[-1]

    dispatcher = Dispatcher(
        FakeConnection(), handler, max_redeliveries=1, handler_timeout=60, clock=clock
    )
    first = dispatcher.deliver("t", "m", parse_first)
    clock.advance(59)
    assert not first.called and dispatcher.running == 1
    clock.advance(1)
    assert first.result is Outcome.RELEASE
    assert hung[0].called  # cancelled: what it does later is ignored
    second = dispatcher.deliver("t", "m", parse_first)
    clock.advance(60)
    assert second.result is Outcome.REJECT
    assert (dispatcher.stats.redelivered, dispatcher.stats.rejected) == (1, 1)
    assert dispatcher.running == 0 and not clock.getDelayedCalls()


def test_a_late_result_after_the_timeout_is_ignored():
    clock = Clock()
    late = defer.Deferred(lambda d: None)  # a handler that ignores cancel()
    dispatcher = Dispatcher(
        FakeConnection(), lambda e: late, 0, handler_timeout=5, clock=clock
    )
    outcome = dispatcher.deliver("t", "m", parse_first)
    clock.advance(5)
    assert outcome.result is Outcome.REJECT
    assert dispatcher.stats.handled == 0


def test_drain_waits_for_handlers_then_gives_their_messages_back():
    clock = Clock()
    quick, hung = defer.Deferred(), defer.Deferred()
    handlers = iter([quick, hung])
    dispatcher = Dispatcher(
        FakeConnection(),
        lambda event: next(handlers),
        max_redeliveries=0,
        handler_timeout=600,
        clock=clock,
    )
    outcomes = [dispatcher.deliver("t", f"m{i}", parse_first) for i in range(2)]
    drained = dispatcher.drain()
    quick.callback(None)
    assert not drained.called
    clock.advance(STOP_GRACE)
    assert drained.called
    assert [o.result for o in outcomes] == [Outcome.ACCEPT, Outcome.RELEASE]
    # Given back at stop is no handler failure: nothing counted as one.
    assert (dispatcher.stats.handled, dispatcher.stats.rejected) == (1, 0)
    assert dispatcher.stats.redelivered == 0
    assert not clock.getDelayedCalls()


def test_drain_is_bounded_by_a_shorter_handler_timeout():
    clock = Clock()
    dispatcher = Dispatcher(
        FakeConnection(),
        lambda event: defer.Deferred(),
        max_redeliveries=3,
        handler_timeout=2,
        clock=clock,
    )
    outcome = dispatcher.deliver("t", "m", parse_first)
    drained = dispatcher.drain()
    clock.advance(2)
    assert drained.called and outcome.result is Outcome.RELEASE
    assert dispatcher.drain().called  # nothing running: at once


@pytest.mark.parametrize("timeout", [0, -1, "10", float("inf"), float("nan"), True])
@pytest_twisted.ensureDeferred
async def test_bad_handler_timeout_fails_the_deferred(timeout):
    with pytest.raises(KojiBusError, match="handler_timeout must be"):
        await subscribe(
            None,
            "amqp://127.0.0.1:1",
            transport="protonmsg",
            topics=["/topic/koji.#"],
            handler=print,
            handler_timeout=timeout,
        )


def test_stream_event_whose_loop_body_outlasts_the_timeout_goes_back():
    clock = Clock()
    made = {}

    def fake_subscribe(handler):
        made["dispatcher"] = Dispatcher(
            FakeConnection(), handler, 3, handler_timeout=5, clock=clock
        )
        stopped = SimpleNamespace(
            stats=made["dispatcher"].stats, stop=lambda: defer.succeed(None)
        )
        return defer.succeed(stopped)

    stream = EventStream(fake_subscribe)
    first = stream.__anext__()
    slow = made["dispatcher"].deliver("t", "m1", parse_first)
    assert first.result.message_id == "m1"
    clock.advance(5)  # the loop body is still busy with m1
    assert slow.result is Outcome.RELEASE
    second = stream.__anext__()  # the body finished late: no error
    quick = made["dispatcher"].deliver("t", "m2", parse_first)
    assert second.result.message_id == "m2"
    third = stream.__anext__()
    assert quick.result is Outcome.ACCEPT
    assert stream.stop().called
    assert isinstance(third.result.value, StopAsyncIteration)  # the loop ends
    third.addErrback(lambda failure: None)
