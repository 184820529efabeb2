"""The bus layer's fault matrix: each transport against each fault, on the
test RabbitMQ (a real node, logins required, anonymous refused; the stomp
transport through its STOMP plugin).

Every cell asserts what the README's "Message bus" section promises: a
clear error naming the broker and its reason (and never the password), or
a recovery in which nothing is lost, and the exit status of ``txkoji
events --bus`` for the faults a script meets first.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer
from twisted.internet.threads import deferToThread

from tests.bus_helpers import Recorder, unique, wait_for
from tests.bus_messages import dataset_messages
from tests.bus_publish import publish_as_hub
from tests.cli_helpers import txkoji
from tests.fedora_publish import PREFIX, publish, publish_raw
from tests.fedora_publish import dataset_messages as fedora_messages
from tests.stomp_helpers import content_key, message_keys
from tests.stomp_publish import brew_frame, publish_frames, publish_stomp
from txkoji import Connection
from txkoji.bus import subscribe
from txkoji.bus.protonmsg import message_id_of
from txkoji.exceptions import KojiBusError

#: Seconds a cell waits at most (a deadline, not a timing assertion).
LIMIT = 120.0


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Bus:
    """One transport on the test broker, and how to publish to it."""

    transport: str
    options: dict[str, Any] = field(default_factory=dict)
    #: every subscription made, stopped when the cell ends however it ends
    made: list[Any] = field(default_factory=list)

    def url(self, rabbitmq: Any) -> str:
        return {
            "protonmsg": rabbitmq.amqp1_url,
            "fedora": rabbitmq.url,
            "stomp": rabbitmq.stomp_url,
        }[self.transport]

    def port(self, rabbitmq: Any) -> int:
        return rabbitmq.stomp_port if self.transport == "stomp" else rabbitmq.port

    def topics(self) -> list[str]:
        if self.transport == "fedora":
            return [f"{PREFIX}.buildsys.#"]
        return ["/topic/koji.#"]

    def key(self, event: Any) -> Any:
        """What identifies a message across deliveries: its id, or for
        stomp (whose ids the broker gives) what it is about."""
        return content_key(event) if self.transport == "stomp" else event.message_id

    def handled(self, recorder: Recorder) -> set[Any]:
        """The :meth:`key` of every message ``recorder`` handled."""
        return {
            self.key(event)
            for message_id, event in recorder.seen
            if message_id in recorder.handled
        }

    async def prepare(self, rabbitmq: Any, name: str) -> None:
        """Declare the subscription's queue (protonmsg reads an existing
        quorum queue on RabbitMQ; fedora declares its own)."""
        if self.transport == "protonmsg":
            await deferToThread(rabbitmq.declare_queue, name, ["koji.#"])

    async def subscribe(
        self,
        rabbitmq: Any,
        name: str | None,
        handler: Any,
        url: str | None = None,
        **more: Any,
    ) -> Any:
        sub = await subscribe(
            Connection(server="https://koji.example.com/kojihub"),
            url or self.url(rabbitmq),
            transport=self.transport,
            topics=self.topics(),
            handler=handler,
            subscription=name,
            **{**self.options, **more},
        )
        self.made.append(sub)
        return sub

    async def publish(
        self, rabbitmq: Any, tmp_path: Any, count: int, skip: int = 0
    ) -> set[Any]:
        """Publish ``count`` good messages (after the first ``skip``) as
        the hub's plugin does; return their :meth:`key`."""
        wanted = slice(skip, skip + count)
        if self.transport == "stomp":
            messages = dataset_messages()[wanted]
            await deferToThread(publish_stomp, rabbitmq.stomp_url, messages, STOMP)
            return set(message_keys(messages))
        if self.transport == "protonmsg":
            messages = dataset_messages()[wanted]
            await deferToThread(publish_as_hub, rabbitmq.amqp1_url, messages)
            return {message_id_of(None, p, b) for _, p, b in messages}
        return set(await publish(rabbitmq, tmp_path, fedora_messages()[wanted]))

    async def publish_garbage(self, rabbitmq: Any, tmp_path: Any) -> int:
        """Publish unreadable messages; return how many of them txkoji
        itself sees (and must count as malformed)."""
        if self.transport == "stomp":
            where, headers, body = brew_frame(dataset_messages()[0], STOMP)
            frames = [
                (where, headers, "{not json"),
                (where, headers, "[1, 2]"),
                (where, {**headers, "type": "NoSuchType"}, body),
                (where, {k: v for k, v in headers.items() if k != "type"}, body),
            ]
            await deferToThread(publish_frames, rabbitmq.stomp_url, frames)
            return len(frames)
        if self.transport == "protonmsg":
            _, properties, _ = dataset_messages()[0]
            garbage = [
                ("build.complete", properties, "{not json"),
                ("build.complete", properties, "[1, 2]"),
                ("build.complete", {**properties, "type": "NoSuchType"}, "{}"),
            ]
            await deferToThread(publish_as_hub, rabbitmq.amqp1_url, garbage)
            return len(garbage)
        # fedora-messaging rejects these itself: txkoji never sees them.
        for body in (b"{not json", b"[1, 2]", b"\xff\xfe"):
            await deferToThread(publish_raw, rabbitmq.url, "buildsys.tag", body)
        # These reach txkoji, which cannot make events of them.
        seen = [
            ["Message", {"name": "bash"}, "buildsys.build.state.change"],
            ["Message", {"id": 1}, "buildsys.heartbeat"],
        ]
        await publish(rabbitmq, tmp_path, seen)
        return len(seen)


#: Where the hub's messages go on RabbitMQ's STOMP plugin.
STOMP = "/topic/koji"

BUSES = {
    "protonmsg": {"allow_insecure_mechs": True},
    "fedora": {},
    "stomp": {},
}


def wrong_password(url: str, rabbitmq: Any) -> str:
    return url.replace(f":{rabbitmq.password}@", ":not-the-password@")


async def refused(bus: Bus, rabbitmq: Any, url: str, *reasons: str) -> str:
    """Subscribing at ``url`` fails at once, naming the broker and one of
    ``reasons``, never the password."""
    with pytest.raises(KojiBusError) as caught:
        await bus.subscribe(rabbitmq, None, Recorder(), url=url)
    message = str(caught.value)
    assert message.startswith("cannot subscribe at "), message
    assert any(reason in message for reason in reasons), message
    assert rabbitmq.password not in message
    return message


# -- the faults -------------------------------------------------------------


async def down_from_start(bus, rabbitmq, tmp_path, caplog):
    url = bus.url(rabbitmq).replace(f":{bus.port(rabbitmq)}", f":{free_port()}")
    await refused(bus, rabbitmq, url, "refused")


async def unknown_host(bus, rabbitmq, tmp_path, caplog):
    url = bus.url(rabbitmq).replace("127.0.0.1", "no-such-host.invalid")
    await refused(bus, rabbitmq, url, "no-such-host.invalid")


async def auth_refused(bus, rabbitmq, tmp_path, caplog):
    url = wrong_password(bus.url(rabbitmq), rabbitmq)
    await refused(
        bus,
        rabbitmq,
        url,
        "Authentication failed [mech=PLAIN]",
        "ACCESS_REFUSED",
        "Access refused for user",
    )


async def vhost_or_queue_missing(bus, rabbitmq, tmp_path, caplog):
    if bus.transport == "fedora":
        url = rabbitmq.url.replace("/%2F", "/no-such-vhost")
        await refused(bus, rabbitmq, url, "NOT_ALLOWED - vhost no-such-vhost not found")
    elif bus.transport == "stomp":
        url = rabbitmq.stomp_url.replace("/%2F", "/no-such-vhost")
        await refused(bus, rabbitmq, url, "no-such-vhost")
    else:
        with pytest.raises(KojiBusError, match="refused|closed"):
            await bus.subscribe(rabbitmq, unique("nowhere"), Recorder())


async def down_midway_and_back(bus, rabbitmq, tmp_path, caplog):
    name = unique(f"drop-{bus.transport}")
    await bus.prepare(rabbitmq, name)
    recorder = Recorder()
    sub = await bus.subscribe(rabbitmq, name, recorder)
    before = await bus.publish(rabbitmq, tmp_path, 5)
    await wait_for(lambda: bus.handled(recorder) >= before, "the first messages", LIMIT)
    with caplog.at_level(logging.WARNING, logger="txkoji"):
        await deferToThread(rabbitmq.drop_connections)
        after = await bus.publish(rabbitmq, tmp_path, 10, skip=5)
        await wait_for(
            lambda: bus.handled(recorder) >= before | after, "every message", LIMIT
        )
    await sub.stop()
    assert "lost the broker at" in caplog.text
    assert "connections dropped" in caplog.text or "lost" in caplog.text
    assert rabbitmq.password not in caplog.text
    assert sub.stats.rejected == 0


async def garbage(bus, rabbitmq, tmp_path, caplog):
    name = unique(f"garbage-{bus.transport}")
    await bus.prepare(rabbitmq, name)
    recorder = Recorder()
    sub = await bus.subscribe(rabbitmq, name, recorder)
    seen = await bus.publish_garbage(rabbitmq, tmp_path)
    good = await bus.publish(rabbitmq, tmp_path, 3)
    await wait_for(
        lambda: bus.handled(recorder) >= good and sub.stats.malformed >= seen,
        "the good messages and the garbage",
        LIMIT,
    )
    await sub.stop()
    assert sub.stats.malformed == seen
    assert bus.handled(recorder) == good
    # Garbage is rejected, never redelivered: the queue is empty.
    assert await deferToThread(rabbitmq.queue_depth, name) == 0


async def slow_handler(bus, rabbitmq, tmp_path, caplog):
    name = unique(f"slow-{bus.transport}")
    await bus.prepare(rabbitmq, name)
    hung: list[Any] = []
    recorder = Recorder()

    def handler(event):
        if not hung or bus.key(event) == hung[0]:
            hung.append(bus.key(event))
            return defer.Deferred()  # never fires
        return recorder(event)

    sub = await bus.subscribe(
        rabbitmq, name, handler, handler_timeout=1, max_redeliveries=1
    )
    ids = await bus.publish(rabbitmq, tmp_path, 4)
    await wait_for(
        lambda: (
            bus.handled(recorder) >= ids - set(hung[:1]) and sub.stats.rejected == 1
        ),
        "the others handled and the hung one rejected",
        LIMIT,
    )
    await sub.stop()
    assert len(hung) == 2  # tried, redelivered once, then rejected
    assert (sub.stats.redelivered, sub.stats.rejected) == (1, 1)


async def closed_in_flight(bus, rabbitmq, tmp_path, caplog):
    name = unique(f"inflight-{bus.transport}")
    await bus.prepare(rabbitmq, name)
    started: list[str] = []

    def hang(event):
        started.append(event.message_id)
        return defer.Deferred()

    sub = await bus.subscribe(rabbitmq, name, hang, handler_timeout=2)
    ids = await bus.publish(rabbitmq, tmp_path, 5)
    await wait_for(lambda: started, "a handler running", LIMIT)
    stopping = sub.stop()
    await wait_for(lambda: stopping.called, "stop() with handlers hung", LIMIT)
    assert sub.stats.handled == 0 and sub.stats.rejected == 0
    recorder = Recorder()
    sub = await bus.subscribe(rabbitmq, name, recorder)
    await wait_for(lambda: bus.handled(recorder) >= ids, "every message again", LIMIT)
    await sub.stop()
    assert bus.handled(recorder) == ids


#: The matrix: fault -> the cell's check (run for each transport).
FAULTS = {
    "broker down from the start": down_from_start,
    "unknown host": unknown_host,
    "login refused": auth_refused,
    "vhost or queue missing": vhost_or_queue_missing,
    "broker down mid-way and back": down_midway_and_back,
    "garbage messages": garbage,
    "slow (hung) handler": slow_handler,
    "stopped with messages in flight": closed_in_flight,
}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("transport", list(BUSES))
@pytest_twisted.ensureDeferred
async def test_bus_fault(transport, fault, rabbitmq, tmp_path, caplog):
    bus = Bus(transport, BUSES[transport])
    try:
        await FAULTS[fault](bus, rabbitmq, tmp_path, caplog)
    finally:
        for sub in bus.made:
            await sub.stop()


# -- the command: what a script sees ---------------------------------------


@pytest.mark.parametrize("transport", list(BUSES))
@pytest.mark.parametrize("fault", ["broker down from the start", "login refused"])
@pytest_twisted.ensureDeferred
async def test_events_bus_reports_and_exits_1(transport, fault, rabbitmq):
    url = Bus(transport).url(rabbitmq)
    if fault == "login refused":
        url = wrong_password(url, rabbitmq)
    else:
        url = url.replace(f":{Bus(transport).port(rabbitmq)}", f":{free_port()}")
    args = ["--server", "http://127.0.0.1:1/kojihub", "events", "--bus", url]
    args += ["--transport", transport, "--allow-insecure-mechs"]
    out, err, code = await txkoji(*args)
    assert code == 1, err
    assert out == ""
    # One line: the reason, said once.
    assert err.startswith("txkoji events: cannot subscribe at "), err
    assert err.count("\n") == 1, err
    assert rabbitmq.password not in err
    assert (
        ("refused" in err)
        if fault != "login refused"
        else any(
            reason in err
            for reason in (
                "Authentication failed",
                "ACCESS_REFUSED",
                "Access refused for user",
            )
        )
    )
    assert "Traceback" not in err
