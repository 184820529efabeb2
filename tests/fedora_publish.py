"""Publish Fedora buildsys messages as Fedora's hub does: fedora-messaging's
publishing (its Twisted service, under ``api.publish``) with the
koji-fedoramessaging-messages schema classes.

Run as a program, with a reactor of its own (``api.publish`` one message
at a time manages about 15 a second here, too slow for the reliability
tests)::

    FEDORA_MESSAGING_CONF=conf.toml python -m tests.fedora_publish < messages.json

stdin holds a JSON list of ``[schema class name, body, topic]`` (the
class ``"Message"`` is fedora-messaging's schema-less base class, which
the plugin falls back to when a body fails its schema); the topic prefix
comes from the configuration file.  The bodies are the plugin's
(:mod:`tests.fedora_plugin`).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from twisted.internet import defer
from twisted.internet.task import react
from twisted.internet.utils import getProcessOutputAndValue

from tests.fedora_plugin import plugin_messages

#: The topic prefix the tests publish under.
PREFIX = "org.fedoraproject.test"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: Messages published at once.
_IN_FLIGHT = 50


def schema_classes() -> dict[str, Any]:
    """The koji-fedoramessaging-messages schema classes, by topic."""
    from importlib.metadata import entry_points

    return {
        cls.topic: cls
        for cls in (
            point.load()
            for point in entry_points(group="fedora.messages")
            if point.name.startswith("koji_fedoramessaging.")
        )
    }


def as_published(topic: str, body: dict[str, Any]) -> list:
    """What the plugin publishes for a body: its schema class, or, when
    the topic has none or the schema refuses the body, fedora-messaging's
    base message on the same topic."""
    import jsonschema

    full = f"buildsys.{topic}"
    cls = schema_classes().get(full)
    if cls is None:
        return ["Message", body, full]
    try:
        jsonschema.validate(body, cls.body_schema)
    except jsonschema.ValidationError:
        return ["Message", body, full]
    return [cls.__name__, body, full]


def dataset_messages() -> list[list]:
    """The plugin's message for every record of the fake hub's data set
    each kind can be about (:func:`tests.fedora_plugin.plugin_messages`)."""
    return [as_published(topic, body) for topic, body in plugin_messages()]


def mixed_messages(count: int) -> list[list]:
    """``count`` distinct messages: :func:`dataset_messages` but its task
    messages, then its task messages again and again under new task ids (a
    real record shifted by a million per round)."""
    base = dataset_messages()
    tasks = [m for m in base if m[2] == "buildsys.task.state.change"]
    messages = [m for m in base if m not in tasks][:count]
    round_ = 0
    while len(messages) < count:
        for name, body, topic in tasks[: count - len(messages)]:
            body = json.loads(json.dumps(body))
            body["id"] = body["info"]["id"] = body["id"] + round_ * 1_000_000
            messages.append([name, body, topic])
        round_ += 1
    return messages


async def publish(rabbitmq: Any, tmp_path: Any, messages: list[list]) -> list[str]:
    """Publish ``messages`` to the test broker with fedora-messaging, in a
    child process (this module run as a program); return their ids."""
    conf = tmp_path / "fedora-messaging.toml"
    conf.write_text(
        f'amqp_url = "{rabbitmq.url}"\n'
        f'topic_prefix = "{PREFIX}"\n'
        'publish_exchange = "amq.topic"\n'
    )
    env = dict(os.environ, FEDORA_MESSAGING_CONF=str(conf), PYTHONPATH=ROOT)
    out, err, code = await getProcessOutputAndValue(
        sys.executable,
        ["-m", "tests.fedora_publish"],
        env=env,
        path=ROOT,
        stdinBytes=json.dumps(messages).encode(),
    )
    assert code == 0, err.decode()
    return out.decode().split()


def publish_raw(url: str, topic: str, body: bytes) -> None:
    """Publish ``body`` as it is on ``topic`` with pika, with the headers a
    fedora-messaging publisher sets (what a broken publisher would send)."""
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        connection.channel().basic_publish(
            "amq.topic",
            f"{PREFIX}.{topic}",
            body,
            pika.BasicProperties(
                content_type="application/json",
                content_encoding="utf-8",
                headers={
                    "fedora_messaging_schema": "base.message",
                    "fedora_messaging_severity": 20,
                },
            ),
        )
    finally:
        connection.close()


async def publish_all(reactor: Any, messages: list[Any]) -> None:
    """Publish ``messages`` through fedora-messaging's Twisted service (a
    few at a time; its factory publishes again after a lost connection,
    as Fedora's hub plugin keeps what it could not send) and print their
    ids."""
    from fedora_messaging import config
    from fedora_messaging.twisted.service import FedoraMessagingServiceV2

    service = FedoraMessagingServiceV2(config.conf["amqp_url"])
    service.startService()
    exchange = config.conf["publish_exchange"]
    limit = defer.DeferredSemaphore(_IN_FLIGHT)
    await defer.gatherResults(
        [limit.run(service.factory.publish, m, exchange) for m in messages],
        consumeErrors=True,
    )
    await service.stopService()
    print("\n".join(message.id for message in messages))


def main() -> None:
    """Publish the messages given on stdin; print their ids, one a line."""
    from fedora_messaging.message import Message

    classes = {cls.__name__: cls for cls in schema_classes().values()}
    messages = []
    for name, body, topic in json.load(sys.stdin):
        if name == "Message":
            messages.append(Message(body=body, topic=topic))
        else:
            messages.append(classes[name](body=body))
    react(lambda reactor: defer.ensureDeferred(publish_all(reactor, messages)))


if __name__ == "__main__":
    main()
