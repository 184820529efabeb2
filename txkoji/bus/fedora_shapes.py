"""Fedora's buildsys messages (koji-fedoramessaging schemas) in the shape
txkoji's message parsers read: protonmsg ``properties`` and ``body``.

Fedora's plugin sends thinner records than the hub's protonmsg plugin
(names instead of records, times as text or numbers): the records built
here hold what the message has, and ``event.build`` / ``event.task`` read
the rest from the hub when asked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from txkoji import build_states
from txkoji.messages import MalformedMessage, UnknownMessageType

Shape = tuple[dict[str, Any], dict[str, Any]]


def _build_record(
    body: Mapping[str, Any], build_id: Any, **more: Any
) -> dict[str, Any]:
    record = {
        "id": build_id,
        "build_id": build_id,
        "name": body["name"],
        "package_name": body["name"],
        "version": body["version"],
        "release": body["release"],
        "epoch": body.get("epoch"),
        "nvr": f"{body['name']}-{body['version']}-{body['release']}",
    }
    record.update(more)
    return record


def _state_name(number: Any) -> str | None:
    return None if number is None else build_states.to_str(number)


def build_state_change(body: Mapping[str, Any]) -> Shape:
    """``buildsys.build.state.change``."""
    build = _build_record(
        body,
        body["build_id"],
        state=body["new"],
        task_id=body.get("task_id"),
        owner_name=body.get("owner"),
        creation_time=body.get("creation_time"),
        completion_time=body.get("completion_time"),
    )
    properties = {
        "type": "BuildStateChange",
        "name": body["name"],
        "version": body["version"],
        "release": body["release"],
        "attribute": body.get("attribute", "state"),
        "old": _state_name(body["old"]),
        "new": _state_name(body["new"]),
    }
    return properties, {"info": build, "old": body["old"], "new": body["new"]}


def task_state_change(body: Mapping[str, Any]) -> Shape:
    """``buildsys.task.state.change``."""
    info = dict(body["info"])
    info.setdefault("id", body["id"])
    info.setdefault("method", body["method"])
    properties = {
        "type": "TaskStateChange",
        "id": body["id"],
        "parent": info.get("parent"),
        "method": body["method"],
        "attribute": body.get("attribute", "state"),
        "old": body["old"],
        "new": body["new"],
    }
    return properties, {"info": info, "old": body["old"], "new": body["new"]}


def _tagging(kind: str) -> Callable[[Mapping[str, Any]], Shape]:
    def shape(body: Mapping[str, Any]) -> Shape:
        build = _build_record(body, body["build_id"], owner_name=body.get("owner"))
        properties = {
            "type": kind,
            "tag": body["tag"],
            "name": body["name"],
            "version": body["version"],
            "release": body["release"],
            "user": body.get("user"),
        }
        tag = {"id": body.get("tag_id"), "name": body["tag"]}
        return properties, {
            "build": build,
            "tag": tag,
            "user": {"name": body.get("user")},
        }

    shape.__doc__ = f"``buildsys.{kind.lower()}``."
    return shape


def package_list_change(body: Mapping[str, Any]) -> Shape:
    """``buildsys.package.list.change``."""
    properties = {
        "type": "PackageListChange",
        "tag": body["tag"],
        "package": body["package"],
        "action": body["action"],
        "user": body.get("owner"),
    }
    return properties, {
        "action": body["action"],
        "tag": {"name": body["tag"]},
        "package": {"name": body["package"]},
        "owner": body.get("owner"),
        "block": body.get("block"),
    }


def _repo(kind: str) -> Callable[[Mapping[str, Any]], Shape]:
    def shape(body: Mapping[str, Any]) -> Shape:
        properties = {"type": kind, "tag": body["tag"], "repo_id": body["repo_id"]}
        tag = {"id": body.get("tag_id"), "name": body["tag"]}
        repo = {
            "id": body["repo_id"],
            "tag_id": body.get("tag_id"),
            "tag_name": body["tag"],
        }
        return properties, {"tag": tag, "repo_id": body["repo_id"], "repo": repo}

    shape.__doc__ = f"``buildsys.repo.{kind[4:].lower()}``."
    return shape


def rpm_sign(body: Mapping[str, Any]) -> Shape:
    """``buildsys.rpm.sign``."""
    build = dict(body["build"])
    rpm = dict(body["rpm"])
    properties = {
        "type": "RPMSign",
        "sigkey": body["sigkey"],
        "name": build.get("name"),
        "version": build.get("version"),
        "release": build.get("release"),
        "rpm_name": rpm.get("name"),
        "rpm_version": rpm.get("version"),
        "rpm_release": rpm.get("release"),
        "rpm_arch": rpm.get("arch"),
    }
    return properties, {
        "sigkey": body["sigkey"],
        "sighash": body.get("sighash"),
        "build": build,
        "rpm": rpm,
    }


#: Shapers by the topic's part after ``buildsys.``.
SHAPERS: dict[str, Callable[[Mapping[str, Any]], Shape]] = {
    "build.state.change": build_state_change,
    "task.state.change": task_state_change,
    "tag": _tagging("Tag"),
    "untag": _tagging("Untag"),
    "package.list.change": package_list_change,
    "repo.init": _repo("RepoInit"),
    "repo.done": _repo("RepoDone"),
    "rpm.sign": rpm_sign,
}


def shape_of(topic: str, body: Any) -> Shape:
    """Return ``(properties, body)`` for a Fedora buildsys message.

    :param topic: the full topic, ``org.fedoraproject.<env>.buildsys.<kind>``.
    :raises UnknownMessageType: for a topic that is not a known buildsys one.
    :raises MalformedMessage: when the body lacks what its kind carries.
    """
    _, found, kind = topic.partition(".buildsys.")
    if not found and topic.startswith("buildsys."):
        kind = topic[len("buildsys.") :]
    shaper = SHAPERS.get(kind)
    if shaper is None:
        raise UnknownMessageType(f"not a Koji buildsys topic: {topic!r}")
    if not isinstance(body, Mapping):
        raise MalformedMessage(f"{topic} message body is not a JSON object")
    try:
        return shaper(body)
    except (KeyError, TypeError, ValueError) as e:
        raise MalformedMessage(f"{topic} message lacks or garbles {e}") from e
