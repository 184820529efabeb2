"""The stomp transport's URLs and per-broker subscriptions, without a
broker."""

from __future__ import annotations

import pytest
import pytest_twisted

from txkoji.bus import subscribe
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
