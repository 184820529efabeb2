"""``txkoji events`` tells every event class: as a line and as JSON, the
classes taken from the code (every concrete subclass of ``Message``), so
that a new class without its own line fails here; and the command prints
Tag events of the polling feed without crashing."""

from __future__ import annotations

import inspect
import json
import re

import pytest
import pytest_twisted

from tests.cli_helpers import CollectOutput, spawn_txkoji
from tests.loopback import until
from tests.test_messages import PROTON
from txkoji.cli.eventlines import FORMATS, event_json, event_line
from txkoji.messages import Message, parse_message


def concrete_message_classes() -> set[type]:
    found, todo = set(), [Message]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if not inspect.isabstract(cls) and cls.__module__.startswith("txkoji."):
            found.add(cls)
    return found


CLASSES = concrete_message_classes()


def examples() -> list:
    return [
        parse_message({"properties": props, "body": json.dumps(body)}, None)
        for props, body in PROTON.values()
    ]


def test_every_message_class_has_an_example_and_a_format():
    assert len(CLASSES) >= 9
    assert {type(e) for e in examples()} == CLASSES
    assert set(FORMATS) == CLASSES


@pytest.mark.parametrize("event", examples(), ids=lambda e: type(e).__name__)
def test_every_event_class_as_a_line(event):
    line = event_line(event)
    assert "\n" not in line and line
    assert line != type(event).__name__  # its own words, not the fallback
    told = json.loads(event_json(event))
    assert told["event"] in {type(event).__name__, "Tag", "Untag"}
    assert "checkpoint" in told
    # Every field told is a value of the event, not a blank.
    assert len([v for v in told.values() if v is not None]) >= 3


@pytest.mark.parametrize("event", examples(), ids=lambda e: type(e).__name__)
def test_bus_message_id_is_in_the_json(event):
    object.__setattr__(event, "message_id", "m-1")
    assert json.loads(event_json(event))["message_id"] == "m-1"


@pytest.mark.parametrize("form", [[], ["--json"]], ids=["plain", "json"])
@pytest_twisted.ensureDeferred
async def test_events_command_prints_tag_events(hub_server, form):
    """The plain form crashed on the first Tag event."""
    sim = hub_server.hub.simulate(seed=3, speed=60)
    collect = CollectOutput()
    args = ["--server", hub_server.url, "--interval", "0.2", "events", *form]
    process = spawn_txkoji(collect, args)
    try:
        await until(lambda: "getLastEvent" in hub_server.hub.calls)
        sim.start_build("bash")

        def tagged() -> bool:
            text = collect.out.decode()
            return "tag bash-" in text or '"event": "Tag"' in text

        await until(lambda: tagged() or collect.ended.called, turns=10**7)
    finally:
        sim.stop()
        if not collect.ended.called:
            process.signalProcess("INT")
    code = await collect.ended
    assert code == 130, collect.err.decode()
    assert "Traceback" not in collect.err.decode()
    assert "has no attribute" not in collect.err.decode()
    assert tagged()


@pytest_twisted.ensureDeferred
async def test_events_on_a_terminal_print_tag_events(hub_server):
    """On a terminal, ``events`` prints the same lines as into a pipe."""
    from tests.test_cli_live import need_tmux, run_on_screen

    need_tmux()
    sim = hub_server.hub.simulate(seed=3, speed=60)
    try:
        sim.start_build("bash")
        screen = await run_on_screen(
            ["--server", hub_server.url, "--interval", "0.2", "events"],
            width=100,
            wait_for="tag bash-",
            keys="C-c",
        )
    finally:
        sim.stop()
    assert "EXIT=130" in screen, screen
    assert re.search(r"^tag bash-\S+ f40-candidate", screen, re.M), screen
    assert "To resume, run: txkoji" in screen
