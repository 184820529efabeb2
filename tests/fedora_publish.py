"""Publish Fedora buildsys messages as Fedora's hub does: fedora-messaging's
``api.publish`` with the koji-fedoramessaging-messages schema classes.

Run as a program (fedora-messaging's blocking publish API runs its own
reactor thread through crochet, so it cannot share the test's reactor)::

    FEDORA_MESSAGING_CONF=conf.toml python -m tests.fedora_publish < messages.json

stdin holds a JSON list of ``[schema class name, body]`` (or
``["Message", body, topic]`` for fedora-messaging's schema-less base
class); the topic prefix comes from the configuration file.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from txkoji.testing.dataset import load_dataset
from txkoji.testing.records import BUILD_STATES, TASK_STATES

_TASK_NAMES = {number: name for name, number in TASK_STATES.items()}
_TASK_FIELDS = (
    "id", "method", "arch", "host_id", "result", "request", "priority", "label",
    "channel_id", "waiting", "awaited", "state", "parent",
)


def fedora_task_info(task: dict[str, Any]) -> dict[str, Any]:
    """A task record as Fedora's plugin sends it (times as numbers)."""
    info = {key: task[key] for key in _TASK_FIELDS}
    info["create_time"] = task["create_ts"]
    info["start_time"] = task["start_ts"]
    info["completion_time"] = task["completion_ts"]
    return info


def build_state_change(build: dict[str, Any], task: dict[str, Any]) -> list:
    """``BuildStateChangeV1`` for a build of the data set."""
    return [
        "BuildStateChangeV1",
        {
            "name": build["name"],
            "version": build["version"],
            "release": build["release"],
            "epoch": build["epoch"],
            "attribute": "state",
            "old": None if build["state"] == 0 else BUILD_STATES["BUILDING"],
            "new": build["state"],
            "build_id": build["id"],
            "task_id": build["task_id"],
            "task": fedora_task_info(task),
            "request": task["request"],
            "owner": build["owner_name"],
            "instance": "primary",
            "creation_time": build["creation_time"],
            "completion_time": build["completion_time"],
        },
    ]


def task_state_change(task: dict[str, Any], owner: str) -> list:
    """``TaskStateChangeV1`` for a task of the data set."""
    return [
        "TaskStateChangeV1",
        {
            "id": task["id"],
            "info": fedora_task_info(task),
            "method": task["method"],
            "attribute": "state",
            "old": None if task["state"] == 0 else "OPEN",
            "new": _TASK_NAMES[task["state"]],
            "srpm": "",
            "owner": owner,
            "base_url": "https://koji.example.com",
            "files_base_url": "https://kojipkgs.example.com",
            "instance": "primary",
        },
    ]


def tag(build: dict[str, Any], tag_info: dict[str, Any]) -> list:
    """``TagV1`` for a tagged build of the data set."""
    return [
        "TagV1",
        {
            "build_id": build["id"],
            "name": build["name"],
            "version": build["version"],
            "release": build["release"],
            "tag_id": tag_info["id"],
            "tag": tag_info["name"],
            "user": build["owner_name"],
            "owner": build["owner_name"],
            "instance": "primary",
        },
    ]


def dataset_messages() -> list[list]:
    """A Fedora message for each build with a task, each task the schema
    can carry, and each tagged build of the fake hub's data set."""
    data = load_dataset()
    tasks = {task["id"]: task for task in data["tasks"]}
    users = {user["id"]: user["name"] for user in data["users"]}
    builds = {build["id"]: build for build in data["builds"]}
    tags = {tag_info["id"]: tag_info for tag_info in data["tags"]}
    messages = [
        build_state_change(build, tasks[build["task_id"]])
        for build in data["builds"]
        if build["task_id"] in tasks
    ]
    # The schema takes a task result only as an object, a string or null
    # (not newRepo's list).
    messages += [
        task_state_change(task, users[task["owner"]])
        for task in data["tasks"]
        if not isinstance(task["result"], list)
    ]
    messages += [
        tag(builds[listing["build_id"]], tags[listing["tag_id"]])
        for listing in data["tagged_builds"]
    ]
    return messages


def main() -> None:
    """Publish the messages given on stdin; print their ids, one a line."""
    from fedora_messaging import api
    from fedora_messaging.message import Message
    from koji_fedoramessaging_messages import build, tag as tag_module, task

    classes = {
        "BuildStateChangeV1": build.BuildStateChangeV1,
        "TaskStateChangeV1": task.TaskStateChangeV1,
        "TagV1": tag_module.TagV1,
    }
    for name, body, *topic in json.load(sys.stdin):
        if name == "Message":
            message = Message(body=body, topic=topic[0])
        else:
            message = classes[name](body=body)
        api.publish(message)
        print(message.id)


if __name__ == "__main__":
    main()
