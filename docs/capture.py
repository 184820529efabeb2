"""Make the pictures of the ``txkoji`` command for the documentation.

Runs the real command in a tmux terminal against the simulating fake hub
(``python -m txkoji.testing --simulate``), reads the screen with
``tmux capture-pane -e`` (colours included) while the command runs, and
exports it as SVG with rich's console recording, into ``docs/pictures``::

    bash scripts/pictures

Needs tmux and rich (``txkoji[cli]``).  The hub runs 20 times faster than
a real one with a fixed seed, so each run looks much the same.
"""

from __future__ import annotations

import io
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import xmlrpc.client
from pathlib import Path

from rich.console import Console
from rich.text import Text

ROOT = Path(__file__).resolve().parent.parent
PICTURES = ROOT / "docs" / "pictures"
#: The terminal's size: wide enough for a line per task with its bar.
COLUMNS, ROWS = 140, 14
#: A tmux server of its own, stopped at the end.
TMUX = ["tmux", "-L", "txkoji-pictures"]


def start_hub() -> tuple[subprocess.Popen[str], str, int]:
    """Start the simulating fake hub with a build of bash; return the
    process, its URL and the build task's id."""
    hub = subprocess.Popen(
        [sys.executable, "-m", "txkoji.testing", "--port", "0", "--simulate"]
        + ["--speed", "20", "--seed", "5", "--activity", "20", "--build", "bash"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert hub.stdout is not None
    url = hub.stdout.readline().split()[1]
    task_id = int(hub.stdout.readline().split()[1])
    return hub, url, task_id


def capture(name: str, argv: list[str], wait: float, cwd: str) -> None:
    """Run ``txkoji argv`` (this checkout's) in a tmux terminal in ``cwd``;
    after ``wait`` seconds save its screen as ``NAME.svg``."""
    session = f"txkoji-pictures-{name}"
    command = shlex.join(
        ["env", f"PYTHONPATH={ROOT}", sys.executable, "-m", "txkoji", *argv]
    )
    subprocess.run(
        [*TMUX, "new-session", "-d", "-s", session, "-x", str(COLUMNS)]
        + ["-y", str(ROWS), f"cd {shlex.quote(cwd)} && {command}; sleep 600"],
        check=True,
    )
    try:
        deadline = time.monotonic() + wait
        while True:
            time.sleep(0.5)
            screen = subprocess.run(
                [*TMUX, "capture-pane", "-e", "-p", "-t", session],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            if time.monotonic() > deadline:
                break
    finally:
        subprocess.run([*TMUX, "kill-session", "-t", session], check=False)
    shown = "txkoji " + shlex.join("URL" if a.startswith("http") else a for a in argv)
    console = Console(
        record=True,
        width=COLUMNS,
        force_terminal=True,
        color_system="truecolor",
        file=io.StringIO(),
    )
    console.print(Text.from_ansi(screen.rstrip("\n")), soft_wrap=True)
    PICTURES.mkdir(parents=True, exist_ok=True)
    (PICTURES / f"{name}.svg").write_text(console.export_svg(title=shown))
    print(f"wrote {PICTURES / f'{name}.svg'}")


def building(url: str) -> list[str]:
    """The NVRs of the builds the simulation has started and not ended."""
    hub = xmlrpc.client.ServerProxy(url, allow_none=True)
    builds = hub.listBuilds({"state": 0, "__starstar": True})
    recent = sorted(builds, key=lambda build: build["build_id"])[-3:]
    return [build["nvr"] for build in recent]


def main() -> None:
    """Start the hub, take each picture, stop the hub."""
    hub, url, task_id = start_hub()
    topurl = url.rsplit("/", 1)[0] + "/kojifiles"
    cwd = tempfile.mkdtemp(prefix="txkoji-pictures-")  # downloads land here
    server = ["--server", url, "--interval", "1"]
    try:
        capture("watch-task", [*server, "watch-task", str(task_id)], 9, cwd)
        capture("watch-build", [*server, "watch-build", *building(url)], 8, cwd)
        capture("events", [*server, "events"], 25, cwd)
        download = ["download-build", "bash-5.2.26-2.fc40", "--dest", "rpms"]
        capture("download-build", [*server, "--topurl", topurl, *download], 15, cwd)
    finally:
        shutil.rmtree(cwd)
        hub.terminate()
        hub.wait()
        subprocess.run([*TMUX, "kill-server"], check=False, stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
