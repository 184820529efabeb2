"""txkoji.bus without a broker: argument checks, addresses, message ids,
Fedora shapes and the dispatcher's decisions."""

from __future__ import annotations

import json

import pytest
import pytest_twisted
from twisted.internet import defer

from tests.bus_messages import dataset_messages
from tests.fake_connection import FakeConnection
from txkoji.bus import TRANSPORTS, subscribe
from txkoji.bus.dispatch import Dispatcher, Outcome
from txkoji.bus.fedora_shapes import shape_of
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
    properties, shaped = shape_of(
        "org.fedoraproject.prod.buildsys.build.state.change", body
    )
    koji = FakeConnection()
    event = parse_message({"properties": properties, "body": shaped}, koji)
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
    properties, shaped = shape_of("org.fedoraproject.prod.buildsys.untag", body)
    event = parse_message({"properties": properties, "body": shaped}, FakeConnection())
    assert isinstance(event, TagUntag)
    assert (event.event, event.tag) == ("Untag", "f40")


@pytest.mark.parametrize(
    ("topic", "body", "error"),
    [
        ("org.fedoraproject.prod.buildsys.heartbeat", {}, UnknownMessageType),
        ("org.fedoraproject.prod.buildsys.tag", ["x"], MalformedMessage),
        ("org.fedoraproject.prod.buildsys.tag", {"name": "bash"}, MalformedMessage),
    ],
)
def test_fedora_shapes_refuse_what_they_cannot_read(topic, body, error):
    with pytest.raises(error):
        shape_of(topic, body)


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
