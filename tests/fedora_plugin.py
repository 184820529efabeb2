"""Fedora buildsys message bodies as the koji-fedoramessaging hub plugin
makes them, from the fake hub's data set (:mod:`txkoji.testing.dataset`).

The plugin's steps, done here on the data set's records: it turns the
hub's times into whole-second timestamps, adds to a task's info the
builder's name, the task's kojiweb ``url``, its result, its ``owner`` as a
user *name* and its ``children`` (each made the same way); it names the
tag, package and users; ``base_url`` is the hub's ``scheme://host``; and
last it removes every ``weight`` and ``*_ts`` field, at any depth.  A body
its schema refuses, or one with no schema (``build.promote``), goes out
as fedora-messaging's schema-less base message.
"""

from __future__ import annotations

import copy
from typing import Any

from txkoji.testing.dataset import load_dataset
from txkoji.testing.records import BUILD_STATES, TASK_STATES

BASE_URL = "https://koji.example.com"
FILES_BASE_URL = "https://kojipkgs.example.com/work"
_TASK_NAMES = {number: name for name, number in TASK_STATES.items()}
_SCRUBBED = ("weight", "start_ts", "create_ts", "completion_ts")
_TIMES = ("completion", "create", "start", "creation")


def scrub(value: Any) -> Any:
    """The plugin's last step: drop ``weight`` and ``*_ts`` everywhere."""
    if isinstance(value, list):
        return [scrub(item) for item in value]
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items() if k not in _SCRUBBED}
    return value


def _as_timestamps(record: dict[str, Any]) -> dict[str, Any]:
    """The hub's times as the plugin sends them: whole-second numbers."""
    record = dict(record)
    for stem in _TIMES:
        stamp = record.get(f"{stem}_ts")
        if f"{stem}_time" in record and stamp is not None:
            record[f"{stem}_time"] = float(int(stamp))
    return record


class Plugin:
    """The plugin's message bodies for the data set's records."""

    def __init__(self) -> None:
        self.data = load_dataset()
        self.users = {user["id"]: user["name"] for user in self.data["users"]}
        self.hosts = {host["id"]: host["name"] for host in self.data["hosts"]}
        self.tags = {tag["id"]: tag for tag in self.data["tags"]}
        self.builds = {build["id"]: build for build in self.data["builds"]}
        self.packages = {p["id"]: p for p in self.data["packages"]}
        self.children: dict[int, list[dict[str, Any]]] = {}
        for task in self.data["tasks"]:
            if task["parent"] is not None:
                self.children.setdefault(task["parent"], []).append(task)

    def _full_task_info(self, task: dict[str, Any]) -> dict[str, Any]:
        info = _as_timestamps(task)
        host_id = info.get("host_id")
        info["host_name"] = self.hosts.get(host_id) if host_id else None
        info["url"] = f"{BASE_URL}/koji/taskinfo?taskID={task['id']}"
        info["owner"] = self.users.get(task["owner"])
        info["children"] = [
            self._full_task_info(child) for child in self.children.get(task["id"], [])
        ]
        return info

    def task_state_change(self, task: dict[str, Any]) -> dict[str, Any]:
        """``task.state.change`` for a task reaching its recorded state."""
        info = self._full_task_info(task)
        request = task.get("request") or ["/"]
        first = request[0] if isinstance(request[0], str) else "/"
        return {
            "base_url": BASE_URL,
            "files_base_url": FILES_BASE_URL,
            "info": info,
            "method": info["method"],
            "attribute": "state",
            "old": None if task["state"] == 0 else "OPEN",
            "new": _TASK_NAMES[task["state"]],
            "id": info["id"],
            "owner": info["owner"],
            "srpm": first.split("/")[-1],
        }

    def build_state_change(self, build: dict[str, Any]) -> dict[str, Any]:
        """``build.state.change`` for a build reaching its recorded state."""
        tasks = {task["id"]: task for task in self.data["tasks"]}
        task = tasks.get(build["task_id"])
        return {
            "base_url": BASE_URL,
            "name": build["name"],
            "version": build["version"],
            "release": build["release"],
            "epoch": build["epoch"],
            "attribute": "state",
            "old": None if build["state"] == 0 else BUILD_STATES["BUILDING"],
            "new": build["state"],
            "build_id": build["id"],
            "task_id": build["task_id"],
            "request": None if task is None else task["request"],
            "owner": build["owner_name"],
        }

    def tagging(self, listing: dict[str, Any]) -> dict[str, Any]:
        """``tag`` / ``untag`` for a tagged build."""
        build = self.builds[listing["build_id"]]
        tag = self.tags[listing["tag_id"]]
        return {
            "base_url": BASE_URL,
            "tag": tag["name"],
            "name": build["name"],
            "version": build["version"],
            "release": build["release"],
            "user": self.users[listing["owner_id"]],
            "owner": self.users[build["owner_id"]],
            "tag_id": tag["id"],
            "build_id": build["id"],
        }

    def package_list_change(
        self, listing: dict[str, Any], action: str
    ) -> dict[str, Any]:
        """``package.list.change``: the hub gives an owner only when adding
        or updating; the plugin then sends ``owner: null``."""
        body: dict[str, Any] = {
            "base_url": BASE_URL,
            "tag": self.tags[listing["tag_id"]]["name"],
            "package": self.packages[listing["package_id"]]["name"],
            "action": action,
            "owner": None,
            "block": listing["blocked"] if action in ("add", "update") else None,
            "extra_arches": listing["extra_arches"],
            "force": None,
            "update": action == "update" or None,
        }
        if action in ("add", "update"):
            body["owner"] = self.users[listing["owner_id"]]
        return body

    def repo(self, tag: dict[str, Any], repo_id: int) -> dict[str, Any]:
        """``repo.init`` and ``repo.done`` carry the same fields."""
        return {
            "base_url": BASE_URL,
            "tag": tag["name"],
            "tag_id": tag["id"],
            "repo_id": repo_id,
        }

    def rpm_sign(self, build: dict[str, Any], index: int) -> dict[str, Any]:
        """``rpm.sign`` (Koji 1.11 and later) for an RPM of a build."""
        rpm = {
            "id": 70000 + index,
            "build_id": build["id"],
            "name": build["name"],
            "version": build["version"],
            "release": build["release"],
            "epoch": build["epoch"],
            "arch": "x86_64",
            "buildtime": int(build["creation_ts"]),
            "payloadhash": f"{index:032x}",
            "size": 1024 * (index + 1),
            "extra": None,
            "metadata_only": False,
            "external_repo_id": 0,
            "external_repo_name": "INTERNAL",
            "buildroot_id": 900 + index,
        }
        return {
            "base_url": BASE_URL,
            "sigkey": "a15b79cc",
            "sighash": f"{index:032x}",
            "build": _as_timestamps(build),
            "rpm": rpm,
        }

    def build_promote(self) -> dict[str, Any]:
        """``build.promote``: the plugin's body maker has no case for it
        (nor does any schema), so the body holds only what every body
        gets: ``base_url`` (and ``instance``, added with the others)."""
        return {"base_url": BASE_URL}


def plugin_messages() -> list[tuple[str, dict[str, Any]]]:
    """``(topic after "buildsys.", body)`` for every kind the plugin sends,
    from every record of the data set that kind can be about."""
    plugin = Plugin()
    data = plugin.data
    messages: list[tuple[str, dict[str, Any]]] = []
    messages += [
        ("task.state.change", plugin.task_state_change(task)) for task in data["tasks"]
    ]
    messages += [
        ("build.state.change", plugin.build_state_change(build))
        for build in data["builds"]
    ]
    for listing in data["tagged_builds"]:
        messages.append(("tag", plugin.tagging(listing)))
        messages.append(("untag", plugin.tagging(listing)))
    for listing in data["tag_packages"]:
        for action in ("add", "update", "block", "unblock", "remove"):
            messages.append(
                ("package.list.change", plugin.package_list_change(listing, action))
            )
    for index, tag in enumerate(data["tags"]):
        messages.append(("repo.init", plugin.repo(tag, 400 + index)))
        messages.append(("repo.done", plugin.repo(tag, 400 + index)))
    for index, build in enumerate(data["builds"]):
        messages.append(("rpm.sign", plugin.rpm_sign(build, index)))
    # Every promotion's body is the same: it names no build.
    messages.append(("build.promote", plugin.build_promote()))
    return [
        (topic, {**scrub(copy.deepcopy(body)), "instance": "primary"})
        for topic, body in messages
    ]
