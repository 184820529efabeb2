"""What the state modules share (:mod:`txkoji.build_states`,
:mod:`txkoji.task_states`, :mod:`txkoji.repo_states`): each defines an
``IntEnum`` of a Koji object's states, then takes from here its plain int
constants (as txkoji 0.10 had them) and the names its ``to_str`` gives."""

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


def state_values(states: type[IntEnum]) -> tuple[int, ...]:
    """Return the plain int value of each member of ``states``, in the
    order they are defined (for ``BUILDING, COMPLETE, ... =
    state_values(BuildState)``)."""
    return tuple(member.value for member in states)
