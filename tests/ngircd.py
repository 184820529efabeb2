"""A real IRC server for the IRC bot tests
(:class:`~txkoji.testing.ircd.IRCServer`), and a client that reads a
channel.  Without ``ngircd`` the ``ircd`` fixture skips, except under
``CI=true`` where it fails.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from twisted.internet import defer, protocol, reactor
from twisted.words.protocols import irc

from tests.needs import missing_part
from txkoji.testing.ircd import IRCServer, available


@pytest.fixture
def ircd(tmp_path) -> Iterator[IRCServer]:
    """A running private ngircd, stopped at the end of the test."""
    if not available():
        missing_part("IRC tests need ngircd (apt-get install ngircd)")
    server = IRCServer(str(tmp_path))
    server.start()
    try:
        yield server
    finally:
        server.stop()


class _Reader(irc.IRCClient):
    nickname = "reader"

    def signedOn(self) -> None:
        self.join(self.factory.channel)

    def joined(self, channel: str) -> None:
        self.factory.joined.callback(self)

    def privmsg(self, user: str, channel: str, message: str) -> None:
        self.factory.lines.append((user.split("!", 1)[0], message))

    def userJoined(self, user: str, channel: str) -> None:
        self.factory.joins.append(user.split("!", 1)[0])


class ChannelReader(protocol.ClientFactory):
    """A person in the channel: records what is said there.

    :ivar lines: ``(nick, text)`` of every message, in order.
    :ivar joins: the nicks that joined after the reader, in order.
    """

    protocol = _Reader

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.lines: list[tuple[str, str]] = []
        self.joins: list[str] = []
        self.joined: defer.Deferred[_Reader] = defer.Deferred()

    def said_by(self, nick: str) -> list[str]:
        """What ``nick`` said, in order."""
        return [text for who, text in self.lines if who == nick]


async def read_channel(port: int, channel: str) -> tuple[ChannelReader, _Reader]:
    """Connect a reader to the server on ``port`` and join ``channel``."""
    reader = ChannelReader(channel)
    reactor.connectTCP("127.0.0.1", port, reader)
    client = await reader.joined
    return reader, client
