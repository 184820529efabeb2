"""The ``txkoji`` command, run as a program against a simulating fake hub:
plain lines, JSON, exit status, unknown ids, Ctrl-C; human durations."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import pytest_twisted
from twisted.internet import reactor, task

from tests.cli_helpers import CollectOutput, spawn_txkoji, txkoji
from tests.loopback import until
from txkoji.cli import main
from txkoji.cli.humanize import human_duration


@pytest_twisted.async_yield_fixture()
async def simulator(hub_server):
    """The fake hub's simulator at 40 times a real hub's speed (a bash
    build takes a few seconds)."""
    sim = hub_server.hub.simulate(seed=3, speed=40)
    yield sim
    sim.stop()


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.4, "0 s"),
        (45, "45 s"),
        (259.875, "4 min 20 s"),
        (720, "12 min"),
        (3780, "1 h 03 min"),
        (90000, "1 d 1 h"),
        (-5, "0 s"),
    ],
)
def test_human_duration(seconds, text):
    assert human_duration(timedelta(seconds=seconds)) == text


def test_human_duration_unknown():
    assert human_duration(None) == "?"


@pytest_twisted.ensureDeferred
async def test_watch_task_plain_lines_to_the_end(hub_server, simulator):
    task_id = simulator.start_build("bash")
    out, err, code = await txkoji(
        "--server", hub_server.url, "--interval", "0.3", "watch-task", str(task_id)
    )
    assert code == 0, err
    assert "\x1b[" not in out
    lines = out.splitlines()
    assert lines[0] == "Watching tasks (this may be safely interrupted)..."
    assert any(line.startswith(f"{task_id} build (f40-candidate, ") for line in lines)
    assert any(line.startswith(f"  {task_id + 2} buildArch (") for line in lines)
    assert any("-> closed" in line for line in lines)
    assert "  0 free  0 open  5 done  0 failed" in lines
    assert lines[-1].endswith(" completed successfully")


@pytest_twisted.ensureDeferred
async def test_watch_task_failed_build_exits_1_with_the_error(hub_server, simulator):
    task_id = simulator.start_build("bash", outcome="failed")
    out, err, code = await txkoji(
        "--server",
        hub_server.url,
        "--topurl",
        "https://kojipkgs.test/",
        "--interval",
        "0.3",
        "watch-task",
        str(task_id),
    )
    assert code == 1, err
    assert "FAILED: BuildError: " in out
    assert "Relevant logs:" in out
    assert re.search(r"https://kojipkgs\.test/work/tasks/\d+/\d+/build\.log", out)
    assert out.splitlines()[-1].endswith(" failed")


@pytest_twisted.ensureDeferred
async def test_watch_task_json_lines(hub_server, simulator):
    task_id = simulator.start_build("bash")
    out, err, code = await txkoji(
        "--server",
        hub_server.url,
        "--interval",
        "0.3",
        "watch-task",
        str(task_id),
        "--json",
    )
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    first = records[0]
    assert (first["event"], first["id"], first["old"]) == (
        "TaskStateChange",
        task_id,
        None,
    )
    assert records[-1] == {"event": "result", "id": task_id, "state": "CLOSED"}
    closed = [r for r in records if r.get("new") == "CLOSED" and r["id"] == task_id]
    assert len(closed) == 1


@pytest_twisted.ensureDeferred
async def test_unknown_task_says_so_and_exits_1(hub_server):
    out, err, code = await txkoji("--server", hub_server.url, "watch-task", "99999")
    assert code == 1
    assert "No such task id: 99999" in err


@pytest_twisted.ensureDeferred
async def test_watch_build_plain(hub_server, simulator):
    task_id = simulator.start_build("bash")
    builds = hub_server.hub.state.builds.values()
    made: list[str] = []
    while not made and simulator.step():  # the build record follows the SRPM
        made = [b["nvr"] for b in builds if b["task_id"] == task_id]
    nvr = made[0]
    out, err, code = await txkoji(
        "--server", hub_server.url, "--interval", "0.3", "watch-build", nvr
    )
    assert code == 0, err
    assert f"{nvr}: building" in out
    assert f"{nvr}: building -> complete" in out
    assert out.splitlines()[-1] == f"{nvr} complete"


@pytest_twisted.ensureDeferred
async def test_ctrl_c_says_how_to_resume(hub_server, simulator):
    task_id = simulator.start_build("bash")
    collect = CollectOutput()
    args = ["--server", hub_server.url, "--interval", "0.3", "watch-task", str(task_id)]
    process = spawn_txkoji(collect, args)
    await until(lambda: b"build (" in collect.out)
    process.signalProcess("INT")
    code = await collect.ended
    text = collect.out.decode()
    assert code == 130
    assert "Tasks still running:" in text
    assert f"To resume watching, run: txkoji {' '.join(args)}" in text


def test_no_hub_given_and_no_koji_profile_is_refused(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert main(["watch-task", "1"]) == 2
    err = capsys.readouterr().err
    assert "no configuration for profile name: koji" in err
    assert "give a profile (-p NAME) or --server URL" in err


@pytest_twisted.ensureDeferred
async def test_events_json_then_ctrl_c_says_how_to_resume(hub_server, simulator):
    collect = CollectOutput()
    args = ["--server", hub_server.url, "--interval", "0.3", "events", "--json"]
    process = spawn_txkoji(collect, args)
    await until(lambda: "getLastEvent" in hub_server.hub.calls)
    await task.deferLater(reactor, 0.5, lambda: None)
    task_id = simulator.start_build("bash")

    def root_closed() -> bool:
        lines = collect.out.decode().split("\n")[:-1]  # whole lines only
        return any(
            r.get("id") == task_id and r.get("new") == "CLOSED"
            for r in map(json.loads, lines)
        )

    await until(lambda: root_closed() or collect.ended.called, turns=10**7)
    process.signalProcess("INT")
    code = await collect.ended
    records = [json.loads(line) for line in collect.out.decode().splitlines()]
    root = [(r["old"], r["new"]) for r in records if r.get("id") == task_id]
    assert root == [(None, "FREE"), ("FREE", "OPEN"), ("OPEN", "CLOSED")]
    assert {r["event"] for r in records} >= {
        "TaskStateChange",
        "BuildStateChange",
        "Tag",
    }
    assert all(r["checkpoint"] for r in records)
    assert code == 130
    hint = collect.err.decode()
    assert "To resume, run: txkoji --server " in hint
    assert " events --since " in hint
