"""A real IRC server for the IRC bot tests, and a client that reads a
channel.

``IRCServer`` runs Debian's ``ngircd`` in the foreground on 127.0.0.1 with
a private configuration (a free port, no PAM, ident or DNS lookups);
tests can :meth:`IRCServer.restart` it.  Without ``ngircd`` the
``ircd`` fixture skips, except under ``CI=true`` where it fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from twisted.internet import defer, protocol, reactor
from twisted.words.protocols import irc

from tests.rabbitmq import _free_port, _stop_group

_START_TIMEOUT = 30.0

_CONFIG = """[Global]
\tName = irc.txkoji.test
\tInfo = txkoji test IRC server
\tListen = 127.0.0.1
\tPorts = {port}
\tMotdPhrase = "txkoji tests"
\tServerUID = {uid}
\tServerGID = {gid}
[Limits]
\tPingTimeout = 30
\tPongTimeout = 10
\tMaxConnectionsIP = 0
[Options]
\tPAM = no
\tIdent = no
\tDNS = no
"""


class IRCServer:
    """One private ngircd.

    :ivar port: its port on 127.0.0.1.
    """

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.port = _free_port()
        self._config = os.path.join(directory, "ngircd.conf")
        with open(self._config, "w") as config:
            # As root, ngircd switches to an unprivileged user.
            uid = 65534 if os.getuid() == 0 else os.getuid()
            gid = 65534 if os.getuid() == 0 else os.getgid()
            config.write(_CONFIG.format(port=self.port, uid=uid, gid=gid))
        self._server: subprocess.Popen | None = None

    def start(self) -> None:
        """Start the server and wait until it takes connections.

        :raises RuntimeError: when it does not start in time.
        """
        out = open(os.path.join(self.directory, "ngircd.out"), "ab")
        with out:
            self._server = subprocess.Popen(
                ["ngircd", "--nodaemon", "--config", self._config],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline and self._server.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", self.port), 1):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("ngircd did not start")

    def stop(self) -> None:
        """Stop the server."""
        if self._server is not None:
            _stop_group(self._server)
            self._server = None

    def restart(self) -> None:
        """Stop the server and start it again on the same port."""
        self.stop()
        self.start()


@pytest.fixture
def ircd(tmp_path) -> Iterator[IRCServer]:
    """A running private ngircd, stopped at the end of the test."""
    if shutil.which("ngircd") is None:
        reason = "IRC tests need ngircd (apt-get install ngircd)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
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
