"""Words and numbers shown for watched tasks and builds, shared by the
plain, JSON and live views."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from txkoji import task_states
from txkoji.cli.details import Details
from txkoji.cli.humanize import human_duration, task_label
from txkoji.watch import WatchedTask

#: How a top-level task's end is told (the official CLI's words).
ENDINGS = {
    task_states.CLOSED: "completed successfully",
    task_states.FAILED: "failed",
    task_states.CANCELED: "was canceled",
}


def state_text(task: Any, details: Details) -> str:
    """The task's state in lower case, with the host for open and
    assigned tasks (``open (builder-01)``)."""
    text = task_states.to_str(task["state"]).lower()
    host = task.get("host_id")
    if task["state"] in (task_states.OPEN, task_states.ASSIGNED) and host:
        text += f" ({details.hosts.get(host, f'host {host}')})"
    return text


def counts(nodes: list[WatchedTask]) -> str:
    """The summary line: ``N free  N open  N done  N failed`` (canceled
    counts as done, assigned as open)."""
    by_state = Counter(node.task["state"] for node in nodes)
    running = by_state[task_states.OPEN] + by_state[task_states.ASSIGNED]
    done = by_state[task_states.CLOSED] + by_state[task_states.CANCELED]
    return (
        f"{by_state[task_states.FREE]} free  {running} open  "
        f"{done} done  {by_state[task_states.FAILED]} failed"
    )


def eta_text(node: Any, now: datetime) -> str:
    """``~12 min left``, ``overdue``, or empty when unknown, finished, or
    not started (a FREE task waits for a builder: none of its time has
    passed, and how long it waits is not known)."""
    task = getattr(node, "task", None)
    if node.finished or node.eta is None or (task is not None and not task.started):
        return ""
    remaining = node.remaining(now)
    if node.progress is not None and node.progress >= 1.0:
        return "overdue"
    return f"~{human_duration(remaining)} left"


def elapsed_text(record: Any, now: datetime) -> str:
    """How long the task or build has run (to its end once finished)."""
    started = record.started
    if started is None:
        return ""
    return human_duration((record.completed or now) - started)


def label(node: WatchedTask) -> str:
    """The task's id and label."""
    return f"{node.id} {task_label(node.task)}"


def resume_command(prog_args: list[str], command: str, ids: list[Any]) -> str:
    """The command line that resumes watching ``ids``."""
    return " ".join(["txkoji", *prog_args, command, *(str(i) for i in ids)])
