"""txkoji 0.10's ``test_build_states.py`` and ``test_task_states.py``."""

import pytest

from txkoji import build_states, task_states


@pytest.mark.parametrize(
    ("name", "number"),
    [("BUILDING", 0), ("COMPLETE", 1), ("DELETED", 2), ("FAILED", 3), ("CANCELED", 4)],
)
def test_build_state_numbers(name, number):
    assert getattr(build_states, name) == number


@pytest.mark.parametrize(
    ("name", "number"),
    [
        ("FREE", 0),
        ("OPEN", 1),
        ("CLOSED", 2),
        ("CANCELED", 3),
        ("ASSIGNED", 4),
        ("FAILED", 5),
    ],
)
def test_task_state_numbers_and_names(name, number):
    assert getattr(task_states, name) == number
    assert task_states.to_str(number) == name


def test_task_state_groups():
    for state in (task_states.FREE, task_states.OPEN, task_states.ASSIGNED):
        assert state in task_states.ACTIVE_GROUP
    for state in (task_states.CLOSED, task_states.CANCELED, task_states.FAILED):
        assert state in task_states.DONE_GROUP


def test_unknown_task_state_name():
    assert task_states.to_str(999) == "(unknown state 999)"
