"""Koji repository states: module-level constants and the
:class:`RepoState` enum."""

from __future__ import annotations

from enum import IntEnum

from txkoji.states import state_name


class RepoState(IntEnum):
    """The states of a Koji repository."""

    INIT = 0
    READY = 1
    EXPIRED = 2
    DELETED = 3
    PROBLEM = 4


INIT = RepoState.INIT.value
READY = RepoState.READY.value
EXPIRED = RepoState.EXPIRED.value
DELETED = RepoState.DELETED.value
PROBLEM = RepoState.PROBLEM.value


def to_str(number: int) -> str:
    """Return the name of repo state ``number`` (``1`` -> ``"READY"``), or
    ``"(unknown state N)"``."""
    return state_name(RepoState, number)
