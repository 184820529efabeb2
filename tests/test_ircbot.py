"""examples/ircbot.py against a real IRC server (ngircd) and the simulating
fake hub: the announcements of a build arrive in the channel in order with
the right text and URLs; the bot reconnects and rejoins after the IRC
server restarts, keeps quiet and recovers while the hub is unreachable,
resumes from its checkpoint, and paces its lines."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.task import Clock, deferLater
from twisted.internet.threads import deferToThread

from tests.bus_helpers import Recorder, unique, wait_for
from tests.bus_messages import dataset_messages
from tests.ngircd import read_channel
from tests.rabbitmq import _stop_group
from tests.stomp_helpers import start_stomp
from tests.stomp_publish import publish_stomp
from txkoji import Connection
from txkoji.testing import HubServer

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "examples" / "ircbot.py"
WEBURL = "https://koji.example.com/koji"
CHANNEL = "#koji"
NICK = "kojibot"
#: The simulated hub runs this many times faster than a real one.
SPEED = 120
CLOSED = 2  # task state
#: What every line of the bot looks like.
ANNOUNCEMENT = re.compile(
    rf"^\S+'s .+ \({re.escape(WEBURL)}/\w+\?\w+=\d+\)$"
    r"|^\S+ (un)?tagged \S+ (into|from) \S+$"
)


def load_bot_module():
    spec = importlib.util.spec_from_file_location("ircbot", BOT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest_twisted.async_yield_fixture()
async def sim_hub():
    """The simulating fake hub, with no activity but the builds a test
    starts."""
    server = HubServer(simulate=True, seed=3, speed=SPEED)
    await server.start()
    yield server
    server.hub.simulator.stop()
    await server.stop()


class Bot:
    """The example run as its user would run it, in its own process."""

    def __init__(
        self, hub_url: str, irc_port: int, state: Path, extra: list[str]
    ) -> None:
        self.log = state.with_suffix(".log")
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(BOT), "--hub", hub_url, "--weburl", WEBURL]
                + ["--irc", f"127.0.0.1:{irc_port}", "--channel", CHANNEL]
                + ["--nick", NICK, "--state", str(state), "--interval", "0.3"]
                + ["--line-delay", "0.2", "--burst", "3", *extra],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self) -> None:
        _stop_group(self.process)


@pytest.fixture
def bots(tmp_path):
    """Start bots with ``bots(hub_url, irc_port)``; all stopped at the end."""
    started = []

    def start(hub_url, irc_port, *extra):
        bot = Bot(hub_url, irc_port, tmp_path / "checkpoint", list(extra))
        started.append(bot)
        return bot

    yield start
    for bot in started:
        bot.stop()


async def bot_polling(sim_hub, reader, since: int = 0) -> None:
    """Wait until the bot is in the channel and has polled the hub."""
    await wait_for(lambda: NICK in reader.joins, "the bot joining", limit=60)
    await wait_for(lambda: len(sim_hub.hub.calls) > since, "the bot polling")


async def build_announced(sim_hub, reader, package="bash") -> tuple[int, list]:
    """Run a build on the hub and wait until the bot announced its end;
    return the build task id and the bot's lines about it."""
    task_id = sim_hub.hub.simulator.start_build(package)
    tag = f"taskID={task_id})"

    def about() -> list[str]:
        return [t for t in reader.said_by(NICK) if package in t]

    await wait_for(
        lambda: any(tag in t and " closed " in t for t in about()),
        "the build's announcements",
        limit=120,
    )
    return task_id, about()


def index_of(lines: list[str], pattern: str) -> int:
    found = [i for i, line in enumerate(lines) if re.search(pattern, line)]
    assert found, f"no line matches {pattern!r} in {lines!r}"
    return found[0]


@pytest_twisted.ensureDeferred
async def test_build_announced_in_order(ircd, sim_hub, bots):
    reader, _ = await read_channel(ircd.port, CHANNEL)
    bots(sim_hub.url, ircd.port)
    await bot_polling(sim_hub, reader)
    task_id, lines = await build_announced(sim_hub, reader)

    koji = Connection(server=sim_hub.url)
    task = await koji.getTaskInfo(task_id)
    owner = (await koji.getUser(task["owner"]))["name"]
    builds = await koji.listBuilds(taskID=task_id)
    await koji.close()
    build = builds[0]
    nvr = re.escape(build["nvr"])
    task_url = re.escape(f"({WEBURL}/taskinfo?taskID={task_id})")
    build_url = re.escape(f"({WEBURL}/buildinfo?buildID={build['build_id']})")
    opened = index_of(
        lines, rf"^{owner}'s bash build for f40-candidate task open {task_url}$"
    )
    building = index_of(
        lines, rf"^{owner}'s {nvr} building, should be done in .+ {build_url}$"
    )
    complete = index_of(lines, rf"^{owner}'s {nvr} complete {build_url}$")
    closed = index_of(
        lines, rf"^{owner}'s bash build for f40-candidate task closed {task_url}$"
    )
    assert opened < building < complete < closed
    # The child tasks are not announced, as helga-koji leaves them out.
    assert not any("buildArch" in line for line in lines)


@pytest_twisted.ensureDeferred
async def test_reconnects_and_rejoins_after_the_irc_server_restarts(
    ircd,
    sim_hub,
    bots,
):
    reader, _ = await read_channel(ircd.port, CHANNEL)
    bot = bots(sim_hub.url, ircd.port)
    await bot_polling(sim_hub, reader)
    await deferToThread(ircd.restart)
    reader, _ = await read_channel(ircd.port, CHANNEL)
    task_id, lines = await build_announced(sim_hub, reader)
    assert any(line.endswith(f"taskID={task_id})") for line in lines)
    assert bot.process.poll() is None


async def cut_off(server: HubServer) -> None:
    """Make the hub unreachable (its simulation runs on): stop listening
    and drop the open connections."""
    await server._port.stopListening()
    await server._factory.close_all()


def reconnect(server: HubServer) -> None:
    """Listen again, on the same port."""
    server._port = reactor.listenTCP(
        server.port, server._factory, interface="127.0.0.1"
    )


@pytest_twisted.ensureDeferred
async def test_quiet_while_the_hub_is_unreachable_then_recovers(ircd, sim_hub, bots):
    reader, _ = await read_channel(ircd.port, CHANNEL)
    bot = bots(sim_hub.url, ircd.port)
    await bot_polling(sim_hub, reader)
    await cut_off(sim_hub)
    await wait_for(
        lambda: b"polling feed failed" in bot.log.read_bytes(), "a poll failing"
    )
    reconnect(sim_hub)
    await wait_for(
        lambda: b"polling feed works again" in bot.log.read_bytes(),
        "the bot polling again",
    )
    task_id, lines = await build_announced(sim_hub, reader)
    # Nothing but announcements: no error reached the channel.
    assert all(ANNOUNCEMENT.match(line) for line in reader.said_by(NICK))
    assert bot.process.poll() is None
    assert any(line.endswith(f"taskID={task_id})") for line in lines)


@pytest_twisted.ensureDeferred
async def test_resumes_from_its_checkpoint(ircd, sim_hub, bots):
    reader, _ = await read_channel(ircd.port, CHANNEL)
    bot = bots(sim_hub.url, ircd.port)
    await bot_polling(sim_hub, reader)
    first, _ = await build_announced(sim_hub, reader)
    await deferToThread(bot.stop)
    said = len(reader.said_by(NICK))
    # A build runs while the bot is away; the restarted bot tells it.
    second = await build_announced_while_away(sim_hub, reader, bots, ircd)
    new = reader.said_by(NICK)[said:]
    assert any(line.endswith(f"taskID={second})") for line in new)
    assert not any(f"taskID={first})" in line for line in new)


async def build_announced_while_away(sim_hub, reader, bots, ircd):
    task_id = sim_hub.hub.simulator.start_build("python-requests")
    koji = Connection(server=sim_hub.url)
    while (await koji.getTaskInfo(task_id))["state"] != CLOSED:
        await deferLater(reactor, 0.2, lambda: None)
    await koji.close()
    bots(sim_hub.url, ircd.port)
    tag = f"taskID={task_id})"
    await wait_for(
        lambda: any(tag in t and " closed " in t for t in reader.said_by(NICK)),
        "the missed build's announcements",
        limit=120,
    )
    return task_id


def test_lines_are_paced():
    ircbot = load_bot_module()
    clock = Clock()
    sent = []
    pacer = ircbot.Pacer(clock, delay=2.0, burst=3)
    for n in range(8):
        pacer.put(f"line {n}")
    assert sent == []  # not in the channel yet: the lines wait
    pacer.sender = sent.append
    pacer.pump()
    assert sent == ["line 0", "line 1", "line 2"]
    clock.advance(1.9)
    assert len(sent) == 3
    clock.advance(0.1)
    assert sent[-1] == "line 3"
    clock.pump([2.0] * 4)
    assert sent == [f"line {n}" for n in range(8)]
    # After a quiet spell the burst is back.
    clock.pump([2.0] * 3)
    for n in range(8, 12):
        pacer.put(f"line {n}")
    assert sent[8:] == ["line 8", "line 9", "line 10"]
    pacer.stop()


def test_irc_demo_prints_the_channel(ircd):
    """``bash scripts/demo --irc`` runs examples/irc_demo.py: the whole
    chain, with the channel printed as a person in it sees it (``ircd``
    only makes it skip, or fail under CI, without ngircd)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "irc_demo.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    submitted = next(i for i, line in enumerate(lines) if "submitted a build" in line)
    task_id = re.search(r"task (\d+)", lines[submitted]).group(1)
    after = lines[submitted:]
    assert any(
        re.search(rf"<kojibot> alice's bash-\S+ complete \({WEBURL}/buildinfo", line)
        for line in after
    )
    assert re.search(
        rf"<kojibot> alice's bash build for f40-candidate task closed "
        rf"\({WEBURL}/taskinfo\?taskID={task_id}\)$",
        after[-1],
    )


@pytest_twisted.ensureDeferred
async def test_announces_from_a_stomp_bus(ircd, activemq, hub_server, bots):
    """With ``--bus``, the bot announces Brew's frames from ActiveMQ."""
    name = unique("ircbot")
    topics = ["/topic/VirtualTopic.eng.brew.>"]
    # The durable consumer queue exists from its first subscription on.
    sub = await start_stomp(
        Connection(server=hub_server.url),
        activemq.url,
        topics,
        Recorder(),
        subscription=name,
    )
    await sub.stop()
    reader, _ = await read_channel(ircd.port, CHANNEL)
    bots(
        hub_server.url,
        ircd.port,
        "--bus",
        activemq.url,
        "--transport",
        "stomp",
        "--topic",
        topics[0],
        "--subscription",
        name,
    )
    await wait_for(lambda: NICK in reader.joins, "the bot joining", limit=60)
    messages = [m for m in dataset_messages() if m[1]["type"] == "BuildStateChange"]
    await deferToThread(publish_stomp, activemq.publisher_url, messages[:3])
    await wait_for(lambda: len(reader.said_by(NICK)) >= 3, "three announcements")
    expected = [
        f"'s {json.loads(body)['info']['nvr']} {props['new'].lower()} "
        f"({WEBURL}/buildinfo?buildID={json.loads(body)['info']['id']})"
        for _, props, body in messages[:3]
    ]
    said = reader.said_by(NICK)
    assert [any(e in line for line in said) for e in expected] == [True] * 3
    assert all(ANNOUNCEMENT.match(line) for line in said)
