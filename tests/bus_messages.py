"""Bus messages shaped as the hub's protonmsg plugin sends them, built from
the fake hub's data set (:mod:`txkoji.testing.dataset`).

Each message is ``(address, properties, body)`` with ``address`` the part
after the topic prefix (``build.complete``), ``properties`` the flat map
the plugin sets and ``body`` the JSON text of the callback's arguments.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from txkoji.testing.dataset import load_dataset
from txkoji.testing.records import BUILD_STATES, TASK_STATES

HubMessage = tuple[str, dict[str, Any], str]

_BUILD_NAMES = {number: name for name, number in BUILD_STATES.items()}
_TASK_NAMES = {number: name for name, number in TASK_STATES.items()}


def build_state_change(build: dict[str, Any]) -> HubMessage:
    """``build.<state>``: the build reached its recorded state."""
    new = _BUILD_NAMES[build["state"]]
    old = None if build["state"] == 0 else "BUILDING"
    properties = {
        "type": "BuildStateChange",
        "name": build["name"],
        "version": build["version"],
        "release": build["release"],
        "attribute": "state",
        "old": old,
        "new": new,
    }
    body = {
        "attribute": "state",
        "old": None if old is None else BUILD_STATES[old],
        "new": build["state"],
        "info": build,
        "btypes": {"rpm": None},
    }
    return f"build.{new.lower()}", properties, json.dumps(body)


def task_state_change(task: dict[str, Any]) -> HubMessage:
    """``task.<state>``: the task reached its recorded state."""
    new = _TASK_NAMES[task["state"]]
    old = None if task["state"] == 0 else "OPEN"
    properties = {
        "type": "TaskStateChange",
        "id": task["id"],
        "parent": task["parent"],
        "method": task["method"],
        "attribute": "state",
        "old": old,
        "new": new,
    }
    body = {"attribute": "state", "old": old, "new": new, "info": task}
    return f"task.{new.lower()}", properties, json.dumps(body)


def tag(
    build: dict[str, Any], tag_info: dict[str, Any], user: dict[str, Any]
) -> HubMessage:
    """``build.tag``: the build was tagged."""
    properties = {
        "type": "Tag",
        "tag": tag_info["name"],
        "name": build["name"],
        "version": build["version"],
        "release": build["release"],
        "user": user["name"],
    }
    body = {"tag": tag_info, "build": build, "user": user, "force": False}
    return "build.tag", properties, json.dumps(body)


def dataset_messages() -> list[HubMessage]:
    """One message per build and task of the data set, and one tag message
    per tagged build."""
    data = load_dataset()
    users = {user["id"]: user for user in data["users"]}
    tags = {tag_info["id"]: tag_info for tag_info in data["tags"]}
    builds = {build["id"]: build for build in data["builds"]}
    messages = [build_state_change(build) for build in data["builds"]]
    messages += [task_state_change(task) for task in data["tasks"]]
    for listing in data["tagged_builds"]:
        build = builds[listing["build_id"]]
        messages.append(tag(build, tags[listing["tag_id"]], users[build["owner_id"]]))
    return messages


def _renumbered(task: dict[str, Any], round_: int) -> dict[str, Any]:
    task = copy.deepcopy(task)
    task["id"] += round_ * 1_000_000
    return task


def mixed_messages(count: int) -> list[HubMessage]:
    """``count`` distinct messages: the data set's build and tag messages
    and, to make up the count, its tasks again and again under new ids (a
    real record shifted by a million per round)."""
    tasks = load_dataset()["tasks"]
    messages = [m for m in dataset_messages() if m[1]["type"] != "TaskStateChange"]
    messages = messages[:count]
    round_ = 0
    while len(messages) < count:
        for task in tasks[: count - len(messages)]:
            messages.append(task_state_change(_renumbered(task, round_)))
        round_ += 1
    return messages
