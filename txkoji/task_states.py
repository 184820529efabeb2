"""Koji task states: module-level constants and groups (as in txkoji 0.10)
and the :class:`TaskState` enum."""

from __future__ import annotations

from enum import IntEnum

from txkoji.states import state_name, state_values


class TaskState(IntEnum):
    """The states of a Koji task."""

    FREE = 0
    OPEN = 1
    CLOSED = 2
    CANCELED = 3
    ASSIGNED = 4
    FAILED = 5


FREE, OPEN, CLOSED, CANCELED, ASSIGNED, FAILED = state_values(TaskState)

#: States of a task that has not finished.
ACTIVE_GROUP = (FREE, OPEN, ASSIGNED)
#: States of a finished task.
DONE_GROUP = (CLOSED, CANCELED, FAILED)


def to_str(number: int) -> str:
    """Return the name of task state ``number`` (``1`` -> ``"OPEN"``),
    or ``"(unknown state N)"``."""
    return state_name(TaskState, number)
