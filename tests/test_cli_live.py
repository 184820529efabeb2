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
from tests.needs import missing_part


@pytest.fixture(autouse=True)
def tmux_installed() -> None:
    """Skip without tmux, except under CI=true, where it must be there."""
    need_tmux()


def need_tmux() -> None:
    """Skip the test without tmux, except under CI=true (then fail)."""
    if shutil.which("tmux") is None:
        missing_part("the live view is tested under tmux (install tmux)")


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
    sim = hub_server.hub.simulate(seed=5, speed=40)
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


async def run_on_screen(
    args: list[str],
    *,
    width: int,
    wait_for: str,
    keys: str | None = None,
    home: str | None = None,
) -> str:
    """Run ``txkoji *args`` in a tmux pane ``width`` cells wide until
    ``wait_for`` is on the screen; then type ``keys`` (tmux key names),
    if any, and wait for the command's exit.  Return the last screen."""
    prefix = f"HOME={shlex.quote(home)} " if home else ""
    command = " ".join(
        shlex.quote(part) for part in [sys.executable, "-m", "txkoji", *args]
    )
    shell = (
        f"cd {shlex.quote(str(ROOT))} && {prefix}PYTHONPATH={shlex.quote(str(ROOT))} "
        f"{command}; echo EXIT=$?; sleep 300"
    )
    session = f"txkoji-cli-{os.getpid()}-{abs(hash(tuple(args))) % 10**8}"
    await tmux("new-session", "-d", "-s", session, "-x", str(width), "-y", "30", shell)
    screen = ""
    try:
        for target in (wait_for, "EXIT=") if keys else ("EXIT=",):
            for _ in range(240):  # two minutes at most
                screen = await tmux("capture-pane", "-p", "-t", session)
                if target in screen or "EXIT=" in screen:
                    break
                await task.deferLater(reactor, 0.5, lambda: None)
            if keys and target == wait_for and "EXIT=" not in screen:
                await tmux("send-keys", "-t", session, keys)
    finally:
        await tmux("kill-session", "-t", session)
    return screen


@pytest_twisted.ensureDeferred
async def test_narrow_terminal_rows_stay_one_line_and_ctrl_c_exits_130(hub_server):
    """50110 is open with a FREE child: at 60 columns every row is one
    line (the label cut, never wrapped), the FREE task shows no elapsed
    time and no bar, and Ctrl-C (typed on the terminal) exits 130 with
    the resume hint and no reactor error."""
    screen = await run_on_screen(
        ["--server", hub_server.url, "--interval", "0.3", "watch-task", "50110"],
        width=60,
        wait_for="50112 buildArch",
        keys="C-c",
    )
    assert "EXIT=130" in screen, screen
    assert "Can't stop reactor" not in screen
    assert "To resume watching, run: " in screen
    lines = screen.splitlines()
    root = next(line for line in lines if line.startswith("50110 build ("))
    assert "…" in root and " open" in root  # cut, and the state kept
    free = next(line for line in lines if line.startswith("  50112 buildArch"))
    assert " free" in free
    assert "overdue" not in free and "━" not in free
    assert not re.search(r"\d+ (s|min|h)\b(?! left)", free)  # no elapsed time
    # Every row of the tree starts with an id: nothing wrapped onto the next.
    counts = [i for i, x in enumerate(lines) if re.match(r"\d+ free  \d+ open", x)]
    assert counts, screen
    tree = lines[: counts[0]]
    assert all(re.match(r"\s*\d+ \w", line) for line in tree if line.strip()), screen


@pytest_twisted.ensureDeferred
async def test_failure_on_screen_has_one_prefix(hub_server):
    screen = await run_on_screen(
        ["--server", hub_server.url, "watch-task", "50020"], width=80, wait_for=""
    )
    assert "EXIT=1" in screen, screen
    assert "FAILED: BuildError: error building" in screen
    assert "KojiFault" not in screen and "getTaskResult" not in screen


@pytest_twisted.ensureDeferred
async def test_unreachable_hub_shows_a_status_line_then_gives_up(tmp_path):
    from tests.test_cli_faults import closed_port_url, home_with_profile

    home = home_with_profile(tmp_path, closed_port_url())
    screen = await run_on_screen(
        ["watch-task", "50010"], width=100, wait_for="", home=str(home)
    )
    assert "EXIT=1" in screen, screen
    assert re.search(
        r"polling tasks failed \(retry 2 of 2 .*\): http://\S+ refused", screen
    )
    assert "txkoji: giving up on polling tasks after 3 failed tries" in screen


@pytest_twisted.ensureDeferred
async def test_ctrl_c_typed_during_login_exits_130(hub_server, tmp_path):
    from tests.test_cli_faults import home_with_profile

    home = home_with_profile(
        tmp_path,
        hub_server.url,
        authtype="password",
        user="alice",
        password="alice-secret-pw",
        allow_password_over_http="true",
    )
    srpm = tmp_path / "x.src.rpm"
    srpm.write_bytes(b"x" * 100)
    hub_server.hub.faults.add("login", delay=60, times=None)
    try:
        screen = await run_on_screen(
            ["upload", str(srpm)],
            width=100,
            wait_for="logging in with user alice",
            keys="C-c",
            home=str(home),
        )
    finally:
        hub_server.hub.faults.clear()
    assert "EXIT=130" in screen, screen
    assert "Can't stop reactor" not in screen and "Traceback" not in screen
