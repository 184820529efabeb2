"""Koji build states: module-level int constants (as in txkoji 0.10) and the
:class:`BuildState` enum."""

from __future__ import annotations

from enum import IntEnum

from txkoji.states import state_name, state_values


class BuildState(IntEnum):
    """The states of a Koji build."""

    BUILDING = 0
    COMPLETE = 1
    DELETED = 2
    FAILED = 3
    CANCELED = 4


BUILDING, COMPLETE, DELETED, FAILED, CANCELED = state_values(BuildState)


def to_str(number: int) -> str:
    """Return the name of build state ``number`` (``1`` -> ``"COMPLETE"``),
    or ``"(unknown state N)"``."""
    return state_name(BuildState, number)
