"""The stomp transport without a broker: its URLs, its per-broker
subscriptions, and (on a Clock, stomp.py's thread replaced) its retries,
reconnections and settling."""

from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet.task import Clock

from tests.bus_messages import dataset_messages
from txkoji.bus import subscribe
from txkoji.bus.dispatch import SubscribeOptions
from txkoji.bus.stomp import StompSubscription
from txkoji.bus.stomp_address import (
    ACTIVEMQ,
    OTHER,
    RABBITMQ,
    Subscribe,
    broker_kind,
    needs_client_id,
    parse_url,
    subscribes,
)
from txkoji.exceptions import KojiBusError


def test_url_parts():
    server = parse_url("stomp+ssl://bot:p%40ss@umb.example.com/%2F")
    assert (server.host, server.port, server.tls) == ("umb.example.com", 61614, True)
    assert (server.login, server.passcode, server.vhost) == ("bot", "p@ss", "/")
    assert server.safe_url == "stomp+ssl://bot@umb.example.com:61614"
    plain = parse_url("stomp://broker:61000/koji")
    assert (plain.port, plain.tls, plain.login, plain.vhost) == (
        61000,
        False,
        None,
        "koji",
    )
    assert parse_url("stomp://broker").vhost == "/"


@pytest.mark.parametrize(
    "url, problem",
    [
        ("amqp://broker", "starts with stomp://"),
        ("stomp://", "names no host"),
        ("stomp://broker:notaport", "bad port"),
        ("stomp://broker/?x=1", "query or fragment"),
        (None, "must be a string"),
    ],
)
def test_bad_urls(url, problem):
    with pytest.raises(KojiBusError, match=problem):
        parse_url(url)


def test_broker_kind_from_the_server_header():
    assert broker_kind("ActiveMQ/5.17.2") == ACTIVEMQ
    assert broker_kind("RabbitMQ/3.10.8") == RABBITMQ
    assert broker_kind("Artemis/2.30") == broker_kind(None) == OTHER


def test_activemq_virtual_topics_read_the_consumer_queue():
    found = subscribes(["VirtualTopic.eng.brew.>"], "bot", ACTIVEMQ, 10)
    assert found == [
        Subscribe(
            "/queue/Consumer.bot.VirtualTopic.eng.brew.>",
            {"activemq.prefetchSize": "10"},
        )
    ]
    assert not needs_client_id(["VirtualTopic.eng.brew.>"], "bot")


def test_activemq_other_topics_get_durable_topic_subscriptions():
    topics = ["/topic/eng.brew.>", "/topic/koji.>"]
    found = subscribes(topics, "bot", ACTIVEMQ, 5)
    assert [f.destination for f in found] == topics
    assert [f.headers["activemq.subscriptionName"] for f in found] == [
        "bot-0",
        "bot-1",
    ]
    assert needs_client_id(topics, "bot")
    assert not needs_client_id(topics, None)


def test_rabbitmq_durable_queue_headers():
    (found,) = subscribes(["/topic/koji.#"], "bot", RABBITMQ, 7)
    assert found == Subscribe(
        "/topic/koji.#",
        {
            "prefetch-count": "7",
            "x-queue-name": "bot",
            "durable": "true",
            "auto-delete": "false",
        },
    )


def test_plain_subscriptions_and_refusals():
    (plain,) = subscribes(["/queue/ActiveMQ.DLQ"], None, OTHER, 1)
    assert plain == Subscribe("/queue/ActiveMQ.DLQ", {})
    with pytest.raises(KojiBusError, match="need ActiveMQ or RabbitMQ"):
        subscribes(["/topic/x"], "bot", OTHER, 1)
    for name in ("", "a.b", "a/b", "a b"):
        with pytest.raises(KojiBusError, match="subscription name"):
            subscribes(["/topic/x"], name, RABBITMQ, 1)
    with pytest.raises(KojiBusError, match="names no destination"):
        subscribes(["/"], None, RABBITMQ, 1)


@pytest_twisted.ensureDeferred
async def test_subscribe_refuses_a_bad_url_before_connecting():
    with pytest.raises(KojiBusError, match="stomp://"):
        await subscribe(
            None,
            "amqp://broker",
            transport="stomp",
            topics=["/topic/x"],
            handler=print,
        )


class FakeWorker:
    """Stands in for the stomp.py thread: records what it was asked."""

    def __init__(self):
        self.asked = []

    def connect_soon(self, generation):
        self.asked.append(("connect", generation))

    def settle_soon(self, generation, ack_id, outcome, broker):
        self.asked.append((outcome.value, generation, ack_id))

    def stop_soon(self):
        self.asked.append(("stop",))


def frame_of(index: int) -> tuple[dict[str, str], str]:
    """A Brew frame of the data set, as the receiver thread hands it over."""
    _, properties, body = dataset_messages()[index]
    headers = {k: str(v) for k, v in properties.items() if v is not None}
    headers.update(
        {"message-id": f"ID:m{index}", "ack": f"a{index}", "destination": "/queue/x"}
    )
    return headers, body


def subscription(handler, clock, max_redeliveries=5):
    options = SubscribeOptions(
        topics=["/topic/VirtualTopic.eng.brew.>"],
        handler=handler,
        subscription="bot",
        max_redeliveries=max_redeliveries,
        prefetch=10,
        ssl_cert=None,
        ssl_key=None,
        ssl_ca=None,
        ssl_password=None,
    )
    sub = StompSubscription(None, "stomp://127.0.0.1", options, clock=clock)
    sub._worker = FakeWorker()
    sub.subscribing(0, ACTIVEMQ)
    sub.receipt(0, "txkoji-subscribed-0")
    return sub


def test_a_failed_frame_is_retried_after_a_backoff_then_acked():
    clock = Clock()
    attempts = []

    def handler(event):
        attempts.append(event.message_id)
        if len(attempts) <= 2:
            raise RuntimeError("not yet")

    sub = subscription(handler, clock)
    sub.arrived(0, *frame_of(0))
    assert attempts == ["ID:m0"] and sub._worker.asked == []
    clock.advance(0.19)
    assert len(attempts) == 1
    clock.advance(0.01)  # first retry after 0.2 s
    assert len(attempts) == 2
    clock.advance(0.39)
    assert len(attempts) == 2
    clock.advance(0.01)  # the second after 0.4 s more
    assert sub._worker.asked == [("accept", 0, "a0")]
    assert (sub.stats.redelivered, sub.stats.handled) == (2, 1)
    assert attempts == ["ID:m0"] * 3


def test_too_many_failures_nack_the_frame_and_others_flow():
    clock = Clock()
    seen = []

    def handler(event):
        seen.append(event.message_id)
        if event.message_id == "ID:m0":
            raise RuntimeError("never")

    sub = subscription(handler, clock, max_redeliveries=2)
    sub.arrived(0, *frame_of(0))
    sub.arrived(0, *frame_of(1))
    assert sub._worker.asked == [("accept", 0, "a1")]
    clock.pump([0.2, 0.4])
    assert sub._worker.asked[-1] == ("reject", 0, "a0")
    assert seen == ["ID:m0", "ID:m1", "ID:m0", "ID:m0"]
    assert (sub.stats.redelivered, sub.stats.rejected) == (2, 1)


def test_a_lost_broker_means_reconnecting_with_backoff_and_old_frames_dropped():
    clock = Clock()
    seen = []
    sub = subscription(seen.append, clock)
    sub.lost(0)
    sub.arrived(0, *frame_of(0))  # from the lost connection: not handled
    assert seen == [] and sub._worker.asked == []
    clock.advance(0.2)
    assert sub._worker.asked == [("connect", 1)]
    sub.worker_failed(1, OSError("connection refused"))
    clock.advance(0.39)
    assert sub._worker.asked == [("connect", 1)]
    clock.advance(0.01)
    assert sub._worker.asked == [("connect", 1), ("connect", 2)]
    sub.subscribing(2, ACTIVEMQ)
    sub.receipt(2, "txkoji-subscribed-2")
    sub.arrived(2, *frame_of(0))
    assert len(seen) == 1 and seen[0].frame.headers["message-id"] == "ID:m0"
    assert sub._worker.asked[-1] == ("accept", 2, "a0")


def test_a_malformed_frame_is_counted_and_nacked():
    sub = subscription(print, Clock())
    headers, _ = frame_of(0)
    sub.arrived(0, headers, "{not json")
    assert sub.stats.malformed == 1
    assert sub._worker.asked == [("reject", 0, "a0")]
