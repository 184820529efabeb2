"""How ``txkoji events`` tells each kind of event: one line of text, or
one JSON object.  Every message class of :mod:`txkoji.messages` has its
entry in :data:`FORMATS`."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from txkoji.cli.humanize import task_label
from txkoji.messages import (
    BuildPromote,
    BuildStateChange,
    Import,
    Message,
    PackageListChange,
    RepoDone,
    RepoInit,
    RPMSign,
    TagUntag,
    TaskStateChange,
)


def _nvr(build: Mapping[str, Any]) -> str:
    nvr = build.get("nvr")
    if nvr:
        return str(nvr)
    parts = [build.get(key) for key in ("name", "version", "release")]
    if all(parts):
        return "-".join(str(part) for part in parts)
    return f"build {build.get('id', build.get('build_id', '?'))}"


def _by(user: str | None) -> str:
    return f" by {user}" if user else ""


def _change(old: str | None, new: str) -> str:
    return new.lower() if old is None else f"{old.lower()} -> {new.lower()}"


def _task(event: TaskStateChange) -> tuple[str, dict[str, Any]]:
    task = event.task
    line = f"task {task['id']} {task_label(task)}: {_change(event.old, event.new)}"
    record = {
        "id": task["id"],
        "parent": task.get("parent"),
        "method": task.get("method"),
        "old": event.old,
        "new": event.new,
    }
    return line, record


def _build(event: BuildStateChange) -> tuple[str, dict[str, Any]]:
    build = event.build
    line = f"build {_nvr(build)}: {_change(event.old, event.new)}"
    record = {
        "id": build.get("id", build.get("build_id")),
        "nvr": _nvr(build),
        "old": event.old,
        "new": event.new,
    }
    return line, record


def _tag(event: TagUntag) -> tuple[str, dict[str, Any]]:
    build = event.build
    line = f"{event.event.lower()} {_nvr(build)} {event.tag}{_by(event.user_name)}"
    record = {
        "event": event.event,
        "build_id": build.get("id", build.get("build_id")),
        "nvr": _nvr(build),
        "tag": event.tag,
        "user": event.user_name,
    }
    return line, record


def _package(event: PackageListChange) -> tuple[str, dict[str, Any]]:
    package = event.package
    name = package.get("name") or package.get("package_name") or "?"
    action = event.action or "change"
    line = f"package {action} {name} in {event.tag}{_by(event.user_name)}"
    record = {
        "package": name,
        "package_id": package.package_id,
        "tag": event.tag,
        "action": event.action,
        "user": event.user_name,
    }
    return line, record


def _import(event: Import) -> tuple[str, dict[str, Any]]:
    build = event.build
    what = event.import_type or "build"
    record = {
        "build_id": build.get("id", build.get("build_id")),
        "nvr": _nvr(build),
        "import_type": event.import_type,
    }
    return f"import {what} {_nvr(build)}", record


def _sign(event: RPMSign) -> tuple[str, dict[str, Any]]:
    rpm = event.rpm
    arch = rpm.get("arch")
    name = _nvr(rpm) + (f".{arch}" if arch else "")
    record = {
        "build_id": event.build.get("id", event.build.get("build_id")),
        "nvr": _nvr(event.build),
        "rpm_id": rpm.get("id"),
        "rpm": name,
        "sigkey": event.sigkey,
    }
    return f"sign {name} with key {event.sigkey}", record


def _repo_init(event: RepoInit) -> tuple[str, dict[str, Any]]:
    task = f" (task {event.task_id})" if event.task_id is not None else ""
    record = {"repo_id": event.repo_id, "tag": event.tag, "task_id": event.task_id}
    return f"repo {event.repo_id} of {event.tag}: init{task}", record


def _repo_done(event: RepoDone) -> tuple[str, dict[str, Any]]:
    record = {"repo_id": event.repo_id, "tag": event.tag, "expire": event.expire}
    return f"repo {event.repo_id} of {event.tag}: done", record


def _promote(event: BuildPromote) -> tuple[str, dict[str, Any]]:
    build = event.build
    build_id = build.get("id", build.get("build_id"))
    # Fedora's bus names neither the build nor the releases.
    named = build_id is not None or bool(build.get("nvr") or build.get("name"))
    what = _nvr(build) if named else "a draft build (the message names none)"
    releases = ""
    if event.draft_release is not None or event.target_release is not None:
        releases = f" from draft {event.draft_release} to {event.target_release}"
    line = f"promote {what}{releases}{_by(event.user_name)}"
    record = {
        "build_id": build_id,
        "nvr": _nvr(build) if named else None,
        "draft_release": event.draft_release,
        "target_release": event.target_release,
        "user": event.user_name,
    }
    return line, record


#: How each message class is told: its line and its JSON fields.
FORMATS: dict[type[Message], Callable[[Any], tuple[str, dict[str, Any]]]] = {
    TaskStateChange: _task,
    BuildStateChange: _build,
    TagUntag: _tag,
    PackageListChange: _package,
    Import: _import,
    RPMSign: _sign,
    RepoInit: _repo_init,
    RepoDone: _repo_done,
    BuildPromote: _promote,
}


def _told(event: Any) -> tuple[str, dict[str, Any]]:
    for cls in type(event).__mro__:
        tell = FORMATS.get(cls)
        if tell is not None:
            return tell(event)
    # A class this module does not know yet: its name, never a crash.
    return type(event).__name__, {}


def event_line(event: Any) -> str:
    """One line telling an event (``task 12 build (f40, bash): open ->
    closed``, ``tag bash-5.2-1.fc40 f40-updates by alice``...)."""
    return _told(event)[0]


def event_json(event: Any) -> str:
    """One JSON object telling an event: ``event`` (its class name, or
    ``Tag``/``Untag``), its fields, the feed's ``checkpoint`` (``null``
    for an event from a bus) and the bus ``message_id`` when there is
    one."""
    record: dict[str, Any] = {"event": type(event).__name__}
    record.update(_told(event)[1])
    record["checkpoint"] = getattr(event, "checkpoint", None)
    message_id = getattr(event, "message_id", None)
    if message_id is not None:
        record["message_id"] = message_id
    return json.dumps(record, default=str)
