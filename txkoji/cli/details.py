"""What the views show beside states: host names, and for a failed task
its error and log URLs; fetched in one multicall per batch of needs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import hyperlink

from txkoji.estimates import HubCall
from txkoji.exceptions import KojiException, KojiFault

#: A fault string that already starts with the error's class
#: (``BuildError: ...``, ``koji.GenericError: ...``).
_NAMED = re.compile(r"[A-Za-z_][\w.]*: ")


def error_text(error: Exception) -> str:
    """``"ExceptionClass: message"`` of a task's failure, with one class
    name: a fault's own string when it names its class already (as the
    hub's task results do), never the call that fetched it."""
    if isinstance(error, KojiFault):
        text = error.faultString
        return text if _NAMED.match(text) else f"{type(error).__name__}: {text}"
    return f"{type(error).__name__}: {error}"


@dataclass
class Failure:
    """Why a task failed, as the official CLI shows it.

    :ivar error: ``"ExceptionClass: message"``.
    :ivar logs: the URLs of the task's ``*.log`` files (empty without a
        ``topurl``).
    """

    error: str
    logs: list[str] = field(default_factory=list)


def work_url(topurl: str, task_id: int, filename: str) -> str:
    """Return the URL of a task output file under ``topurl`` (PathInfo's
    ``work/tasks/<id % 10000>/<id>/<file>``)."""
    url = hyperlink.URL.from_text(topurl.rstrip("/"))
    for segment in ("work", "tasks", str(task_id % 10000), str(task_id), filename):
        url = url.child(segment)
    return url.to_text()


class Details:
    """Host names by id and failures by task id, fetched on demand.

    :param connection: the :class:`txkoji.Connection`.
    """

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.hosts: dict[int, str] = {}
        self.failures: dict[int, Failure] = {}

    async def fetch(self, host_ids: set[int], failed: list[int]) -> None:
        """Fetch the names of ``host_ids`` not known yet and the failures
        of the ``failed`` task ids not known yet, in one request (none when
        all are known).  A hub error leaves them unknown."""
        hosts = sorted(h for h in host_ids if h not in self.hosts)
        tasks = [t for t in failed if t not in self.failures]
        calls: list[HubCall] = [("getHost", (host,), {}) for host in hosts]
        for task_id in tasks:
            calls.append(("getTaskResult", (task_id,), {}))
            calls.append(("listTaskOutput", (task_id,), {}))
        if not calls:
            return
        try:
            answers = await self.connection.multicall(calls)
        except KojiException:
            return
        for host, answer in zip(hosts, answers, strict=False):
            if isinstance(answer, dict) and answer.get("name"):
                self.hosts[host] = answer["name"]
        rest = answers[len(hosts) :]
        for index, task_id in enumerate(tasks):
            self.failures[task_id] = self._failure(
                task_id, rest[2 * index], rest[2 * index + 1]
            )

    def _failure(self, task_id: int, result: Any, outputs: Any) -> Failure:
        if isinstance(result, Exception):
            error = error_text(result)
        else:
            error = f"{result!r}"
        topurl = self.connection.topurl
        logs = []
        if topurl and isinstance(outputs, list):
            logs = [
                work_url(topurl, task_id, name)
                for name in sorted(outputs)
                if isinstance(name, str) and name.endswith(".log")
            ]
        return Failure(error, logs)
