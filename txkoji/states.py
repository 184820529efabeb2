"""Shared helper for the state modules (:mod:`txkoji.build_states`,
:mod:`txkoji.task_states`, :mod:`txkoji.repo_states`)."""

from __future__ import annotations

from enum import IntEnum


def state_name(states: type[IntEnum], number: int) -> str:
    """Return the name of state ``number`` in ``states``.

    :returns: the name (``"COMPLETE"``), or ``"(unknown state N)"`` for a
        number the enum does not know (txkoji 0.10's wording).
    """
    try:
        return states(number).name
    except ValueError:
        return f"(unknown state {number})"
