"""An IRC bot that announces Koji builds and tasks, as helga-koji does.

    python examples/ircbot.py --hub https://koji.example.com/kojihub \\
        --weburl https://koji.example.com/koji --irc irc.example.com:6667 \\
        --channel '#builds' --state ~/.kojibot-checkpoint

    # from a message bus instead of polling the hub:
    python examples/ircbot.py ... --bus stomp://user:pass@umb:61613 \\
        --transport stomp --topic /topic/VirtualTopic.eng.brew.> \\
        --subscription kojibot

It says who built what, the new state and the kojiweb URL, and for a
build that starts, when it should be done.  With ``--state`` it writes
the polling feed's checkpoint after each line it sent, and resumes from
there after a restart (a bus subscription resumes by its name).  It
sends at most ``--burst`` lines at once, then one per ``--line-delay``
seconds (IRC servers disconnect clients that flood), reconnects and
rejoins when the IRC server goes away, and keeps quiet while the hub is
unreachable (the feed polls again).  Nothing blocks the reactor.
"""

from __future__ import annotations

import argparse
import collections
import logging
import os
import sys
from datetime import datetime, timezone

from twisted.internet import defer, protocol, task
from twisted.logger import globalLogBeginner, textFileLogObserver
from twisted.words.protocols import irc

from txkoji import Connection
from txkoji.bus import TRANSPORTS, events
from txkoji.cli.humanize import human_duration
from txkoji.exceptions import KojiException
from txkoji.messages import BuildStateChange, TaskStateChange
from txkoji.watch import feed

log = logging.getLogger("ircbot")

#: Child tasks helga-koji does not announce (their parent is announced).
QUIET_METHODS = {"buildArch", "buildSRPMFromSCM", "createrepo", "tagBuild"}
#: Lines kept while the bot is not in its channel (oldest dropped first).
BACKLOG = 500


async def asked(call, default):
    """The answer of a hub call (a Deferred), or ``default`` when the hub
    could not answer: a line goes out either way."""
    try:
        return await call
    except KojiException as error:
        log.warning("no answer from the hub (%s); announcing without it", error)
        return default


async def announcement(event) -> str | None:
    """The line announcing ``event``, or ``None`` for one not announced."""
    if isinstance(event, BuildStateChange):
        build = event.build
        who = build.get("owner_name") or "someone"
        text = f"{who}'s {build.nvr} {event.new.lower()}"
        if event.new == "BUILDING":
            eta = await asked(build.estimate_completion(), None)
            if eta is not None:
                left = eta - datetime.now(timezone.utc)
                text += f", should be done in {human_duration(left)}"
        return f"{text} ({event.url})"
    if isinstance(event, TaskStateChange):
        job = event.task
        if job.method in QUIET_METHODS:
            return None
        who = await asked(event.user(), None) or "someone"
        what = " ".join(w for w in (job.package, job.method) if w)
        if job.target:
            what += f" for {job.target}"
        return f"{who}'s {what} task {event.new.lower()} ({event.url})"
    who = await asked(event.user(), None) or "someone"
    if event.event == "Tag":
        return f"{who} tagged {event.build.nvr} into {event.tag}"
    return f"{who} untagged {event.build.nvr} from {event.tag}"


class Pacer:
    """Sends lines without flooding: ``burst`` at once, then one per
    ``delay`` seconds; lines wait while there is no ``sender`` (not in
    the channel)."""

    def __init__(self, clock, delay: float, burst: int) -> None:
        self.clock = clock
        self.delay = delay
        self.burst = burst
        self.sender = None
        self._tokens = float(burst)
        self._lines: collections.deque = collections.deque(maxlen=BACKLOG)
        self._refill = None

    def put(self, line: str, sent=None) -> None:
        """Queue ``line``; ``sent()`` is called once it went out."""
        self._lines.append((line, sent))
        self.pump()

    def pump(self) -> None:
        """Send what the rate allows now, and come back for the rest."""
        while self._lines and self.sender is not None and self._tokens >= 1:
            line, sent = self._lines.popleft()
            self._tokens -= 1
            self.sender(line)
            if sent is not None:
                sent()
        if self._refill is None and self._tokens < self.burst:
            self._refill = self.clock.callLater(self.delay, self._add_token)

    def _add_token(self) -> None:
        self._refill = None
        self._tokens = min(self.burst, self._tokens + 1)
        self.pump()

    def stop(self) -> None:
        """Stop the refill timer."""
        if self._refill is not None and self._refill.active():
            self._refill.cancel()


class AnnounceBot(irc.IRCClient):
    """Joins the channel and says the pacer's lines there."""

    def signedOn(self) -> None:
        self.join(self.factory.channel)

    def joined(self, channel: str) -> None:
        log.info("joined %s", channel)
        self.factory.resetDelay()
        self.factory.pacer.sender = lambda line: self.msg(channel, line)
        self.factory.pacer.pump()

    def connectionLost(self, reason) -> None:
        self.factory.pacer.sender = None
        super().connectionLost(reason)


class BotFactory(protocol.ReconnectingClientFactory):
    """Connects the bot, and connects again (with a growing delay) whenever
    the server goes away."""

    protocol = AnnounceBot
    maxDelay = 30
    initialDelay = 0.5

    def __init__(self, nickname: str, channel: str, pacer: Pacer) -> None:
        self.nickname = nickname
        self.channel = channel
        self.pacer = pacer

    def buildProtocol(self, addr):
        bot = super().buildProtocol(addr)
        bot.nickname = self.nickname
        return bot


def read_checkpoint(path: str | None) -> str | None:
    """The checkpoint saved in ``path``, if any."""
    if path is None or not os.path.exists(path):
        return None
    with open(path) as saved:
        return saved.read().strip() or None


def save_checkpoint(path: str | None, checkpoint: str | None) -> None:
    """Save ``checkpoint`` in ``path`` (replacing the file at once)."""
    if path is None or checkpoint is None:
        return
    with open(path + ".new", "w") as new:
        new.write(checkpoint + "\n")
    os.replace(path + ".new", path)


async def announce_all(koji, source, pacer: Pacer, state: str | None) -> None:
    """Announce every event of ``source`` in order, saving the checkpoint
    of each once its line went out."""
    async for event in source:
        line = await announcement(event)
        checkpoint = getattr(event, "checkpoint", None)
        if line is None:
            save_checkpoint(state, checkpoint)
        else:
            pacer.put(line, lambda c=checkpoint: save_checkpoint(state, c))


async def main(reactor, args) -> None:
    if args.hub:
        koji = Connection(server=args.hub, weburl=args.weburl)
    else:
        koji = Connection(args.profile)
    pacer = Pacer(reactor, args.line_delay, args.burst)
    host, _, port = args.irc.rpartition(":")
    reactor.connectTCP(host, int(port), BotFactory(args.nick, args.channel, pacer))
    if args.bus:
        source = events(
            koji,
            args.bus,
            transport=args.transport,
            topics=args.topic,
            subscription=args.subscription,
        )
    else:
        source = feed(koji, since=read_checkpoint(args.state), interval=args.interval)
    await announce_all(koji, source, pacer, args.state)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="koji", help="koji profile (koji)")
    parser.add_argument("--hub", help="hub URL (instead of --profile)")
    parser.add_argument("--weburl", help="kojiweb URL (with --hub)")
    parser.add_argument("--irc", required=True, help="IRC server HOST:PORT")
    parser.add_argument("--channel", required=True, help="channel to announce in")
    parser.add_argument("--nick", default="kojibot", help="nickname (kojibot)")
    parser.add_argument("--state", help="file keeping the feed's checkpoint")
    parser.add_argument("--interval", type=float, default=5.0, help="poll seconds")
    parser.add_argument("--line-delay", type=float, default=1.0, help="seconds/line")
    parser.add_argument("--burst", type=int, default=4, help="lines sent at once")
    parser.add_argument("--bus", help="read this message bus instead of polling")
    parser.add_argument("--transport", choices=TRANSPORTS, help="with --bus")
    parser.add_argument("--topic", action="append", help="with --bus (repeatable)")
    parser.add_argument("--subscription", help="durable subscription name")
    args = parser.parse_args(argv)
    if args.bus and not (args.transport and args.topic):
        parser.error("--bus needs --transport and --topic")
    return args


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    # txkoji's feed logs (a failing hub, and when it answers again) with
    # Twisted's logger.
    globalLogBeginner.beginLoggingTo(
        [textFileLogObserver(sys.stderr)], redirectStandardIO=False
    )
    options = parse_args()
    task.react(lambda reactor: defer.ensureDeferred(main(reactor, options)))
