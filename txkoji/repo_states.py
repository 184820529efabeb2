"""Koji repository states: module-level constants and the
:class:`RepoState` enum."""

from __future__ import annotations

from enum import IntEnum

from txkoji.states import state_name, state_values


class RepoState(IntEnum):
    """The states of a Koji repository."""

    INIT = 0
    READY = 1
    EXPIRED = 2
    DELETED = 3
    PROBLEM = 4


INIT, READY, EXPIRED, DELETED, PROBLEM = state_values(RepoState)


def to_str(number: int) -> str:
    """Return the name of repo state ``number`` (``1`` -> ``"READY"``),
    or ``"(unknown state N)"``."""
    return state_name(RepoState, number)
