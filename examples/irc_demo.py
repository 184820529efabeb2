"""txkoji IRC demo: the whole announcing chain on this machine.

    bash scripts/demo --irc          # or: python examples/irc_demo.py

It starts a private IRC server (Debian's ``ngircd``, on a free port of
127.0.0.1), the simulating fake hub (40 times faster than a real one),
the bot of ``examples/ircbot.py`` polling that hub, and a person reading
the channel, whose screen is printed; then it submits a build of bash
and stops once the bot announced its end.
"""

from __future__ import annotations

import sys
import tempfile
import time

import ircbot
from twisted.internet import defer, protocol, task
from twisted.internet.threads import deferToThread
from twisted.words.protocols import irc

from txkoji.testing import HubServer
from txkoji.testing.ircd import IRCServer, available

CHANNEL = "#koji"
#: Seconds the demo may take at most.
LIMIT = 300


class Person(irc.IRCClient):
    """Someone in the channel: prints what they see."""

    nickname = "you"

    def signedOn(self):
        self.join(CHANNEL)

    def joined(self, channel):
        self.show(f"* you joined {channel}")
        self.factory.ready.callback(None)

    def userJoined(self, user, channel):
        self.show(f"* {user.split('!')[0]} joined {channel}")
        self.factory.seen.append(("join", user.split("!")[0]))

    def privmsg(self, user, channel, message):
        self.show(f"<{user.split('!')[0]}> {message}")
        self.factory.seen.append(("say", message))

    def show(self, line):
        print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)


class PersonFactory(protocol.ClientFactory):
    protocol = Person

    def __init__(self):
        self.ready = defer.Deferred()
        self.seen = []


async def until(reactor, condition):
    deadline = time.monotonic() + LIMIT
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("the demo took too long")
        await task.deferLater(reactor, 0.2, lambda: None)


async def main(reactor):
    if not available():
        raise SystemExit("the IRC demo needs ngircd (apt-get install ngircd)")
    with tempfile.TemporaryDirectory() as directory:
        ircd = IRCServer(directory)
        await deferToThread(ircd.start)
        hub = HubServer(reactor, simulate=True, seed=1, speed=40, activity=None)
        await hub.start()
        print(f"IRC server on 127.0.0.1:{ircd.port}, fake hub at {hub.url}")
        person = PersonFactory()
        reactor.connectTCP("127.0.0.1", ircd.port, person)
        await person.ready
        options = ircbot.parse_args(
            ["--hub", hub.url, "--weburl", "https://koji.example.com/koji"]
            + ["--irc", f"127.0.0.1:{ircd.port}", "--channel", CHANNEL]
            + ["--interval", "1", "--line-delay", "0.5"]
        )
        bot = defer.ensureDeferred(ircbot.main(reactor, options))
        try:
            await until(reactor, lambda: ("join", options.nick) in person.seen)
            await task.deferLater(reactor, 2, lambda: None)  # its first poll
            task_id = hub.hub.simulator.start_build("bash")
            print(f"(submitted a build of bash: task {task_id})", flush=True)
            done = f"taskID={task_id})"
            await until(
                reactor,
                lambda: any(
                    kind == "say" and done in text and " closed " in text
                    for kind, text in person.seen
                ),
            )
        finally:
            bot.cancel()
            bot.addErrback(lambda _: None)
            await hub.stop()
            await deferToThread(ircd.stop)


if __name__ == "__main__":
    sys.exit(task.react(lambda reactor: defer.ensureDeferred(main(reactor))))
