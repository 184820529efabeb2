"""Publish Fedora buildsys messages as Fedora's hub does: fedora-messaging's
publishing (its Twisted service, under ``api.publish``) with the
koji-fedoramessaging-messages schema classes.

Run as a program, with a reactor of its own (``api.publish`` one message
at a time manages about 15 a second here, too slow for the reliability
tests)::

    FEDORA_MESSAGING_CONF=conf.toml python -m tests.fedora_publish < messages.json

stdin holds a JSON list of ``[schema class name, body]`` (or
``["Message", body, topic]`` for fedora-messaging's schema-less base
class); the topic prefix comes from the configuration file.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from twisted.internet import defer
from twisted.internet.task import react

from txkoji.testing.dataset import load_dataset
from txkoji.testing.records import BUILD_STATES, TASK_STATES

#: Messages published at once.
_IN_FLIGHT = 50

_TASK_NAMES = {number: name for name, number in TASK_STATES.items()}
_TASK_FIELDS = (
    "id",
    "method",
    "arch",
    "host_id",
    "result",
    "request",
    "priority",
    "label",
    "channel_id",
    "waiting",
    "awaited",
    "state",
    "parent",
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


def mixed_messages(count: int) -> list[list]:
    """``count`` distinct messages: :func:`dataset_messages`' build and tag
    messages, then its task messages again and again under new task ids (a
    real record shifted by a million per round)."""
    base = dataset_messages()
    messages = [m for m in base if m[0] != "TaskStateChangeV1"][:count]
    tasks = [m for m in base if m[0] == "TaskStateChangeV1"]
    round_ = 0
    while len(messages) < count:
        for name, body in tasks[: count - len(messages)]:
            body = json.loads(json.dumps(body))
            body["id"] = body["info"]["id"] = body["id"] + round_ * 1_000_000
            messages.append([name, body])
        round_ += 1
    return messages


async def publish_all(reactor: Any, messages: list[Any]) -> None:
    """Publish ``messages`` through fedora-messaging's Twisted service (a
    few at a time; its factory publishes again after a lost connection,
    as Fedora's hub plugin keeps what it could not send) and print their
    ids."""
    from fedora_messaging import config
    from fedora_messaging.twisted.service import FedoraMessagingServiceV2

    service = FedoraMessagingServiceV2(config.conf["amqp_url"])
    service.startService()
    exchange = config.conf["publish_exchange"]
    limit = defer.DeferredSemaphore(_IN_FLIGHT)
    await defer.gatherResults(
        [limit.run(service.factory.publish, m, exchange) for m in messages],
        consumeErrors=True,
    )
    await service.stopService()
    print("\n".join(message.id for message in messages))


def main() -> None:
    """Publish the messages given on stdin; print their ids, one a line."""
    from fedora_messaging.message import Message
    from koji_fedoramessaging_messages import build, task
    from koji_fedoramessaging_messages import tag as tag_module

    classes = {
        "BuildStateChangeV1": build.BuildStateChangeV1,
        "TaskStateChangeV1": task.TaskStateChangeV1,
        "TagV1": tag_module.TagV1,
    }
    messages = []
    for name, body, *topic in json.load(sys.stdin):
        if name == "Message":
            messages.append(Message(body=body, topic=topic[0]))
        else:
            messages.append(classes[name](body=body))
    react(lambda reactor: defer.ensureDeferred(publish_all(reactor, messages)))


if __name__ == "__main__":
    main()
