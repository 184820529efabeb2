"""Where a STOMP subscription connects and what it subscribes to: the
``stomp://`` URL, and the destinations and headers each broker wants for
plain and durable subscriptions.

Topics are STOMP destinations (``/topic/VirtualTopic.eng.brew.>``,
``/queue/name``); a bare name (``VirtualTopic.eng.brew.>``) means
``/topic/<name>``.  With a subscription name, by broker:

* ActiveMQ, a virtual topic (``VirtualTopic.*``): the queue
  ``Consumer.<name>.<topic>``, which the broker fills while the consumer
  is away (as UMB consumers read Brew's messages);
* ActiveMQ, another topic: a durable topic subscription, named by the
  ``client-id`` the connection sends and ``activemq.subscriptionName``;
* RabbitMQ (its STOMP plugin): a durable, non-auto-delete queue named for
  the subscription, bound to each topic (``x-queue-name``, ``durable``,
  ``auto-delete``).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from txkoji.exceptions import KojiBusError

#: Default ports by URL scheme.
DEFAULT_PORTS = {"stomp": 61613, "stomp+ssl": 61614}
#: The prefix of ActiveMQ's virtual topics.
VIRTUAL_TOPIC = "VirtualTopic."

#: :func:`broker_kind` of an ActiveMQ broker.
ACTIVEMQ = "activemq"
#: :func:`broker_kind` of a RabbitMQ broker.
RABBITMQ = "rabbitmq"
#: :func:`broker_kind` of any other broker.
OTHER = "other"


@dataclass(frozen=True)
class StompServer:
    """A broker's address, read from a ``stomp://`` or ``stomp+ssl://``
    URL.

    :ivar host: its host name.
    :ivar port: its STOMP port.
    :ivar tls: whether to speak TLS.
    :ivar login: the login (``None``: none sent).
    :ivar passcode: its passcode.
    :ivar vhost: the ``host`` header: the URL's path (``/`` when it has
        none), RabbitMQ's virtual host.
    """

    host: str
    port: int
    tls: bool
    login: str | None
    passcode: str | None
    vhost: str

    @property
    def safe_url(self) -> str:
        """The URL without the passcode, for messages and logs."""
        scheme = "stomp+ssl" if self.tls else "stomp"
        user = f"{self.login}@" if self.login else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


def parse_url(url: str) -> StompServer:
    """Read a broker URL: ``stomp://[login:passcode@]host[:port][/vhost]``
    or ``stomp+ssl://...`` (the vhost %-encoded: ``/%2F`` is ``/``).

    :raises KojiBusError: naming what is wrong with it.
    """
    if not isinstance(url, str):
        raise KojiBusError(f"a STOMP broker URL must be a string, not {url!r}")
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS:
        raise KojiBusError(
            f"a STOMP broker URL starts with stomp:// or stomp+ssl://, not {url!r}"
        )
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise KojiBusError(f"STOMP broker URL {url!r} has a bad port") from None
    if not parts.hostname:
        raise KojiBusError(f"STOMP broker URL {url!r} names no host")
    if parts.query or parts.fragment:
        raise KojiBusError(
            f"STOMP broker URL {url!r} has a query or fragment; "
            "only the path (the virtual host) is read"
        )
    path = parts.path[1:] if parts.path.startswith("/") else parts.path
    return StompServer(
        host=parts.hostname,
        port=port,
        tls=parts.scheme == "stomp+ssl",
        login=unquote(parts.username) if parts.username is not None else None,
        passcode=unquote(parts.password) if parts.password is not None else None,
        vhost=unquote(path) or "/",
    )


def broker_kind(server: str | None) -> str:
    """Return which broker answered, from the ``server`` header of its
    ``CONNECTED`` frame (``ActiveMQ/5.17.6``, ``RabbitMQ/3.12.1``):
    :data:`ACTIVEMQ`, :data:`RABBITMQ` or :data:`OTHER`."""
    name = (server or "").split("/", 1)[0].strip().lower()
    if name in (ACTIVEMQ, RABBITMQ):
        return name
    return OTHER


def destination_of(topic: str) -> str:
    """Return a topic as a STOMP destination (a bare name is a topic).

    :raises KojiBusError: for an empty topic.
    """
    if not topic or topic == "/":
        raise KojiBusError(f"STOMP topic {topic!r} names no destination")
    return topic if topic.startswith("/") else f"/topic/{topic}"


def needs_client_id(topics: list[str], subscription: str | None) -> bool:
    """Whether the connection must send ``client-id`` (an ActiveMQ durable
    topic subscription among ``topics``)."""
    if subscription is None:
        return False
    return any(_durable_topic_name(destination_of(t)) for t in topics)


def _durable_topic_name(destination: str) -> str | None:
    """The topic name of a destination an ActiveMQ subscription would read
    through a durable topic subscription (a topic, not a virtual one)."""
    if not destination.startswith("/topic/"):
        return None
    name = destination[len("/topic/") :]
    return None if name.startswith(VIRTUAL_TOPIC) else name


@dataclass(frozen=True)
class Subscribe:
    """One ``SUBSCRIBE`` to send.

    :ivar destination: the destination.
    :ivar headers: its extra headers.
    """

    destination: str
    headers: dict[str, str]


def subscribes(
    topics: list[str], subscription: str | None, broker: str, prefetch: int
) -> list[Subscribe]:
    """Return the ``SUBSCRIBE`` frames that read ``topics`` on ``broker``
    (see the module's text for what a subscription name does).

    :raises KojiBusError: for an empty topic, or a subscription name with
        characters the broker would read as a destination's structure.
    """
    if subscription is not None and (
        not subscription or any(c in subscription for c in "/.*>#, ")
    ):
        raise KojiBusError(
            f"STOMP subscription name {subscription!r} must be a non-empty "
            "name without '/', '.', '*', '>', '#', ',' or spaces"
        )
    found = []
    for index, topic in enumerate(topics):
        destination = destination_of(topic)
        headers: dict[str, str] = {}
        if broker == RABBITMQ:
            headers["prefetch-count"] = str(prefetch)
            if subscription is not None:
                headers.update(
                    {
                        "x-queue-name": subscription,
                        "durable": "true",
                        "auto-delete": "false",
                    }
                )
        elif broker == ACTIVEMQ:
            headers["activemq.prefetchSize"] = str(prefetch)
            if subscription is not None and destination.startswith(
                "/topic/" + VIRTUAL_TOPIC
            ):
                name = destination[len("/topic/") :]
                destination = f"/queue/Consumer.{subscription}.{name}"
            elif subscription is not None and _durable_topic_name(destination):
                suffix = f"-{index}" if len(topics) > 1 else ""
                headers["activemq.subscriptionName"] = subscription + suffix
        elif subscription is not None:
            raise KojiBusError(
                "durable STOMP subscriptions need ActiveMQ or RabbitMQ; "
                "this broker is neither"
            )
        found.append(Subscribe(destination, headers))
    return found
