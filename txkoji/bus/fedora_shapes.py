"""Fedora's buildsys messages (the koji-fedoramessaging plugin, with the
koji-fedoramessaging-messages schemas) as txkoji events.

Fedora's plugin sends thinner records than the hub's protonmsg plugin:
names instead of records (a task's ``owner`` is a user *name*), times as
numbers, fields the schemas let it leave out (a package list change often
has no ``owner``, no ``package_id`` and no ``user``; most schemas require
nothing).  Every body the schemas accept becomes an event: what the
message lacks is ``None`` in the event (``event.tag``, ``event.user_name``,
``event.build.id``...), and ``event.fetch_build()`` /
``event.fetch_task()`` read the full record from the hub when asked.

A body is refused (:class:`MalformedMessage`) only when it is not a JSON
object, or lacks what its event cannot do without and its schema requires
too (a state change's new state, a task's id), or holds a value of the
wrong type where the event reads it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from munch import Munch

from txkoji import build_states, task_states
from txkoji.build import Build
from txkoji.messages import (
    BuildPromote,
    BuildStateChange,
    MalformedMessage,
    Message,
    PackageListChange,
    RepoDone,
    RepoInit,
    RPMSign,
    TagUntag,
    TaskStateChange,
    UnknownMessageType,
)
from txkoji.messages.base import record_of, state_name
from txkoji.task import Task

#: Builds an event from a Fedora message body, on a connection.
Maker = Callable[[Mapping[str, Any], Any], Message]


def _text(body: Mapping[str, Any], key: str, kind: str) -> str | None:
    """``body[key]`` when it is a string, ``None`` when missing or nil."""
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise MalformedMessage(f"{kind} message's {key!r} is not a string: {value!r}")
    return value


def _number(value: Any, what: str, kind: str) -> int | None:
    """``value`` when it is an integer (the schemas say no more: any
    integer), ``None`` when nil."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise MalformedMessage(f"{kind} message's {what} is not an id: {value!r}")
    return value


def _struct(body: Mapping[str, Any], key: str, kind: str) -> dict[str, Any]:
    """``body[key]`` when it is an object, ``{}`` when missing or nil."""
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise MalformedMessage(f"{kind} message's {key!r} is not an object")
    return dict(value)


def _times(record: dict[str, Any], stems: tuple[str, ...]) -> dict[str, Any]:
    """Move times the plugin sends as numbers (``create_time: 1.7e9``) to
    the hub's ``<stem>_ts`` fields, which txkoji's records read."""
    for stem in stems:
        for key in (f"{stem}_time", f"{stem}_ts"):
            value = record.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                record[f"{stem}_ts"] = value
                if key.endswith("_time"):
                    record[key] = None
    return record


def _build(record: dict[str, Any], kind: str, connection: Any) -> Build:
    """A :class:`~txkoji.build.Build` of what the message says (its id as
    both ``id`` and ``build_id``, its NVR when all three parts are there)."""
    build_id = record.get("build_id", record.get("id"))
    record.setdefault("id", build_id)
    record.setdefault("build_id", build_id)
    if record.get("name") is not None:
        record.setdefault("package_name", record["name"])
    parts = [record.get(key) for key in ("name", "version", "release")]
    names = [part for part in parts if isinstance(part, str)]
    if len(names) == 3 and "nvr" not in record:
        record["nvr"] = "-".join(names)
    _times(record, ("creation", "start", "completion"))
    build = record_of(record, "getBuild", kind, connection, "build")
    _number(build.get("id"), "build id", kind)
    return build


def _nvr_fields(body: Mapping[str, Any], kind: str) -> dict[str, Any]:
    return {key: _text(body, key, kind) for key in ("name", "version", "release")}


def _state(value: Any, to_str: Callable[[int], str], kind: str) -> str | None:
    """A state as the schemas give it: a name (any string) or a number."""
    if isinstance(value, str):
        return value
    return state_name(value, to_str, kind)


def _new_state(body: Mapping[str, Any], to_str: Callable[[int], str], kind: str) -> str:
    new = _state(body.get("new"), to_str, kind)
    if new is None:
        raise MalformedMessage(f"{kind} message has no new state")
    return new


def build_state_change(body: Mapping[str, Any], connection: Any) -> Message:
    """``buildsys.build.state.change``."""
    kind = "BuildStateChange"
    record = _nvr_fields(body, kind)
    epoch = body.get("epoch")
    record.update(
        build_id=_number(body.get("build_id"), "build id", kind),
        epoch=epoch,
        state=body.get("new"),
        task_id=_number(body.get("task_id"), "task id", kind),
        owner_name=_text(body, "owner", kind),
        creation_time=body.get("creation_time"),
        completion_time=body.get("completion_time"),
    )
    return BuildStateChange(
        _build(record, kind, connection),
        _new_state(body, build_states.to_str, kind),
        _state(body.get("old"), build_states.to_str, kind),
    )


def _task(info: dict[str, Any], owner: str | None, kind: str, connection: Any) -> Task:
    """A :class:`~txkoji.task.Task` of the plugin's task info: its owner
    name as ``owner_name`` (the hub's ``owner`` is a user id), its times
    as the hub's ``*_ts`` numbers."""
    info_owner = info.get("owner")
    if isinstance(info_owner, str):
        owner = info_owner
    if info_owner is not None and (
        isinstance(info_owner, bool) or not isinstance(info_owner, int)
    ):
        del info["owner"]
    if owner is not None:
        info.setdefault("owner_name", owner)
    _times(info, ("create", "start", "completion"))
    task = record_of(info, "getTaskInfo", kind, connection, "'info'")
    if task.get("id") is None:
        raise MalformedMessage(f"{kind} message's task has no id")
    return task


def task_state_change(body: Mapping[str, Any], connection: Any) -> Message:
    """``buildsys.task.state.change``."""
    kind = "TaskStateChange"
    info = _struct(body, "info", kind)
    info.setdefault("id", body.get("id"))
    info.setdefault("method", body.get("method"))
    task = _task(info, _text(body, "owner", kind), kind, connection)
    return TaskStateChange(
        task,
        _new_state(body, task_states.to_str, kind),
        _state(body.get("old"), task_states.to_str, kind),
    )


def _tagging(event: str) -> Maker:
    def make(body: Mapping[str, Any], connection: Any) -> Message:
        record = _nvr_fields(body, event)
        record["build_id"] = _number(body.get("build_id"), "build id", event)
        record["owner_name"] = _text(body, "owner", event)
        return TagUntag(
            _build(record, event, connection),
            event,
            _text(body, "tag", event),
            _text(body, "user", event),
        )

    make.__doc__ = f"``buildsys.{event.lower()}``."
    return make


def package_list_change(body: Mapping[str, Any], connection: Any) -> Message:
    """``buildsys.package.list.change``: the plugin sends a null owner for
    unblock and remove, and never a package id or a user."""
    kind = "PackageListChange"
    package = record_of(
        {"name": _text(body, "package", kind)}, "getPackage", kind, connection
    )
    return PackageListChange(
        _text(body, "tag", kind),
        package,
        _text(body, "action", kind),
        _text(body, "owner", kind),
    )


def repo_init(body: Mapping[str, Any], connection: Any) -> Message:
    """``buildsys.repo.init``."""
    kind = "RepoInit"
    return RepoInit(
        _number(body.get("repo_id"), "repo_id", kind),
        _text(body, "tag", kind),
        None,
        connection,
    )


def repo_done(body: Mapping[str, Any], connection: Any) -> Message:
    """``buildsys.repo.done``."""
    kind = "RepoDone"
    tag = _text(body, "tag", kind)
    repo = Munch(
        id=_number(body.get("repo_id"), "repo_id", kind),
        tag_id=_number(body.get("tag_id"), "tag_id", kind),
        tag_name=tag,
    )
    return RepoDone(repo, tag, None, connection)


def rpm_sign(body: Mapping[str, Any], connection: Any) -> Message:
    """``buildsys.rpm.sign``: Koji 1.11 and later send ``sigkey``,
    ``build`` and ``rpm``; earlier ones ``info`` (the signature) and no
    build."""
    kind = "RPMSign"
    legacy = _struct(body, "info", kind)
    rpm = Munch(_struct(body, "rpm", kind))
    if not rpm and legacy.get("rpm_id") is not None:
        rpm["id"] = legacy["rpm_id"]
    _number(rpm.get("id"), "rpm id", kind)
    sigkey = _text(body, "sigkey", kind)
    if sigkey is None:
        sigkey = _text(legacy, "sigkey", kind)
    build = _build(_struct(body, "build", kind), kind, connection)
    return RPMSign(build, rpm, sigkey)


def build_promote(body: Mapping[str, Any], connection: Any) -> Message:
    """``buildsys.build.promote``: a draft build was promoted.  The
    plugin has no schema and no fields of its own for it: the body holds
    only ``base_url`` and ``instance``, so the event's build (its id
    too), releases and user are all ``None``: Fedora's bus does not say
    which build it was."""
    kind = "BuildPromote"
    build = _build({}, kind, connection)
    return BuildPromote(build, None, None, None)


#: Event makers by the topic's part after ``buildsys.``.
MAKERS: dict[str, Maker] = {
    "build.state.change": build_state_change,
    "task.state.change": task_state_change,
    "tag": _tagging("Tag"),
    "untag": _tagging("Untag"),
    "package.list.change": package_list_change,
    "repo.init": repo_init,
    "repo.done": repo_done,
    "rpm.sign": rpm_sign,
    "build.promote": build_promote,
}


def fedora_event(topic: str, body: Any, connection: Any) -> Message:
    """Return the event of a Fedora buildsys message.

    :param topic: the full topic, ``org.fedoraproject.<env>.buildsys.<kind>``.
    :param body: the message body (decoded JSON).
    :param connection: the connection the event gets.
    :raises UnknownMessageType: for a topic that is not a known buildsys one.
    :raises MalformedMessage: for a body that is not an object, or lacks
        or garbles what its event needs.
    """
    _, found, kind = topic.partition(".buildsys.")
    if not found and topic.startswith("buildsys."):
        kind = topic[len("buildsys.") :]
    maker = MAKERS.get(kind)
    if maker is None:
        raise UnknownMessageType(f"not a Koji buildsys topic: {topic!r}")
    if not isinstance(body, Mapping):
        raise MalformedMessage(f"{topic} message body is not a JSON object")
    try:
        return maker(body, connection)
    except (KeyError, TypeError, ValueError) as e:
        raise MalformedMessage(f"{topic} message lacks or garbles {e}") from e
