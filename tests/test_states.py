"""The state modules: plain int constants named as their enum's members,
and to_str."""

from __future__ import annotations

import pytest

from txkoji import build_states, repo_states, task_states

MODULES = [
    (build_states, build_states.BuildState, "build"),
    (task_states, task_states.TaskState, "task"),
    (repo_states, repo_states.RepoState, "repo"),
]


@pytest.mark.parametrize(("module", "states", "kind"), MODULES)
def test_each_member_has_a_plain_int_constant_of_its_name(module, states, kind):
    for member in states:
        constant = getattr(module, member.name)
        assert type(constant) is int
        assert constant == member.value


@pytest.mark.parametrize(("module", "states", "kind"), MODULES)
def test_to_str_names_known_and_unknown_states(module, states, kind):
    for member in states:
        assert module.to_str(member.value) == member.name
    assert module.to_str(99) == "(unknown state 99)"


def test_task_state_groups():
    assert task_states.ACTIVE_GROUP == (0, 1, 4)
    assert task_states.DONE_GROUP == (2, 3, 5)
