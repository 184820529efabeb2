"""The subcommands: ``watch-task``, ``watch-build`` and ``events``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from twisted.internet import defer

from txkoji import build_states, task_states
from txkoji.cli.details import Details
from txkoji.cli.plain import PlainBuildView, PlainTaskView
from txkoji.cli.retries import GaveUp, poll_retries
from txkoji.cli.runner import INTERRUPTED
from txkoji.cli.tasklines import resume_command
from txkoji.exceptions import KojiNotFound
from txkoji.watch import BuildWatcher, TaskWatcher


def live_wanted(json_lines: bool) -> bool:
    """Whether to draw the live view: stdout is a terminal, no ``--json``,
    and ``rich`` is installed (else plain lines, with a hint on stderr)."""
    if json_lines or not sys.stdout.isatty():
        return False
    try:
        import rich  # noqa: F401
    except ImportError:
        print(
            "txkoji: install txkoji[cli] for the live view; printing lines",
            file=sys.stderr,
        )
        return False
    return True


async def _watch(
    view: Any,
    watcher: Any,
    resume: str,
    missing: str,
    succeeded: Callable[[Any], bool],
) -> int:
    """Run ``watcher`` with ``view`` showing it.

    :param resume: the command line that resumes watching.
    :param missing: what to print for each unknown id or NVR (``{}`` is
        replaced by it).
    :param succeeded: whether the watcher's result means success.
    :returns: the exit status: 0 on success, 1 otherwise, when something
        given does not exist or when the hub kept failing, 130 when
        interrupted.
    """
    watcher.failures = poll_retries(
        watcher.connection, f"polling {watcher.what}", view.status
    )
    view.start(watcher)
    try:
        result = await watcher.run()
    except defer.CancelledError:
        await view.settle()
        view.interrupted(watcher, resume)
        return INTERRUPTED
    except KojiNotFound as error:
        view.stop()
        for item in error.missing:
            print(missing.format(item), file=sys.stderr)
        return 1
    except GaveUp as error:
        view.stop()
        print(f"txkoji: {error}", file=sys.stderr)
        return 1
    except BaseException:
        view.stop()
        raise
    await view.settle()
    view.finish(watcher)
    return 0 if succeeded(result) else 1


async def watch_task(
    reactor: Any,
    koji: Any,
    task_ids: list[int],
    *,
    interval: float | None = None,
    json_lines: bool = False,
    global_args: Sequence[str] = (),
) -> int:
    """``txkoji watch-task ID...``: watch, show, and return the exit
    status: 0 when every task given closed, 1 otherwise (or when one does
    not exist), 130 when interrupted."""
    details = Details(koji)
    if live_wanted(json_lines):
        from txkoji.cli.live import LiveTaskView

        view: Any = LiveTaskView(reactor, details)
    else:
        view = PlainTaskView(details, json_lines)
    watcher = TaskWatcher(
        koji, task_ids, interval=interval, on_event=view.event, on_cycle=view.cycle
    )
    resume = resume_command(list(global_args), "watch-task", task_ids)
    return await _watch(
        view,
        watcher,
        resume,
        "No such task id: {}",
        lambda roots: all(r.task["state"] == task_states.CLOSED for r in roots),
    )


def build_ref(text: str) -> int | str:
    """A build given on the command line: an id when all digits, else an
    NVR."""
    return int(text) if text.isdigit() else text


async def watch_build(reactor: Any, koji: Any, args: argparse.Namespace) -> int:
    """``txkoji watch-build NVR...``: exit 0 when every build completed."""
    if live_wanted(args.json):
        from txkoji.cli.live import LiveBuildView

        view: Any = LiveBuildView(reactor)
    else:
        view = PlainBuildView(args.json)
    watcher = BuildWatcher(
        koji,
        args.builds,
        interval=args.interval,
        on_event=view.event,
        on_cycle=view.cycle,
    )
    resume = resume_command(args.global_args, "watch-build", args.builds)
    return await _watch(
        view,
        watcher,
        resume,
        "No such build: {}",
        lambda builds: all(b["state"] == build_states.COMPLETE for b in builds),
    )
