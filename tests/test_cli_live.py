"""The live view of ``txkoji watch-task`` as a person sees it: run in a
tmux pseudo-terminal against the simulating fake hub, its screen read
with ``capture-pane`` while the build runs."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys

import pytest
import pytest_twisted
from twisted.internet import reactor, task, utils

from tests.cli_helpers import ROOT, environment


@pytest.fixture(autouse=True)
def tmux_installed() -> None:
    """Skip without tmux, except under CI=true, where it must be there."""
    if shutil.which("tmux") is None:
        reason = "the live view is tested under tmux (install tmux)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


BAR_MARKS = "╸╺"
ETA = re.compile(r"~(?:(\d+) min )?(\d+) s left")


async def tmux(*args: str) -> str:
    """Run a tmux command; return its output."""
    out = await utils.getProcessOutput("tmux", args, env=environment())
    return out.decode()


def root_line(screen: str, task_id: int) -> str | None:
    """The screen's line about task ``task_id``, if shown."""
    for line in screen.splitlines():
        if line.startswith(f"{task_id} build ("):
            return line
    return None


def bar_halves(line: str) -> int | None:
    """How many half cells of the progress bar are filled (the position of
    the half-cell mark rich draws at the boundary), or None."""
    bar = re.search(r"[━╸╺]{10,}", line)
    if bar is None:
        return None
    cells = bar.group(0)
    for index, char in enumerate(cells):
        if char in BAR_MARKS:
            return 2 * index + (1 if char == "╸" else 0)
    return None


def eta_seconds(line: str) -> int | None:
    """The seconds of a ``~N min SS s left`` on the line, or None."""
    match = ETA.search(line)
    if match is None:
        return None
    return int(match.group(1) or 0) * 60 + int(match.group(2))


@pytest_twisted.ensureDeferred
async def test_live_view_moves_and_exits_0(hub_server):
    sim = hub_server.hub.simulate(seed=5, speed=20)
    task_id = sim.start_build("bash")
    session = f"txkoji-live-{task_id}-{id(sim)}"
    command = " ".join(
        shlex.quote(part)
        for part in [
            sys.executable,
            "-m",
            "txkoji",
            "--server",
            hub_server.url,
            "--interval",
            "0.5",
            "watch-task",
            str(task_id),
        ]
    )
    shell = f"cd {shlex.quote(str(ROOT))} && {command}; echo EXIT=$?; sleep 300"
    screens: list[str] = []
    await tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "30", shell)
    try:
        for _ in range(600):  # five minutes at most
            screen = await tmux("capture-pane", "-p", "-t", session)
            screens.append(screen)
            if "EXIT=" in screen:
                break
            await task.deferLater(reactor, 0.5, lambda: None)
    finally:
        await tmux("kill-session", "-t", session)
        sim.stop()
    final = screens[-1]
    assert "EXIT=0" in final, final
    assert f"{task_id} build (" in final and "completed successfully" in final
    lines = [root_line(s, task_id) for s in screens]
    lines = [line for line in lines if line]
    # States change: the build task is seen open, then closed.
    assert any(" open (" in line for line in lines)
    assert " closed " in lines[-1] + " "
    # The progress bar advances.
    halves = [h for h in (bar_halves(line) for line in lines) if h is not None]
    assert len(set(halves)) >= 3, halves
    assert halves == sorted(halves)
    # The ETA counts down.
    etas = [e for e in (eta_seconds(line) for line in lines) if e is not None]
    assert len(set(etas)) >= 3, etas
    assert etas[-1] < etas[0]
    # The summary line is there.
    assert "0 free  0 open  5 done  0 failed" in final
