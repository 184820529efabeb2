"""Plain-line and JSON output of the watch commands (for pipes, logs and
scripts): no escape codes, one line per change."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from twisted.internet import defer

from txkoji import build_states, task_states
from txkoji.cli.details import Details
from txkoji.cli.retries import say
from txkoji.cli.tasklines import ENDINGS, counts, label, state_text
from txkoji.watch import BuildWatcher, TaskWatcher


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


class ProgressLines:
    """The ``eta`` and ``progress`` of ``--json`` lines, and a
    ``{"event": "progress"}`` line whenever they move for something still
    running (the ETA changes, or the progress by :attr:`STEP`): what the
    live view's bar and time left show."""

    #: Progress between two progress lines of one task or build.
    STEP = 0.05

    def __init__(self) -> None:
        self._told: dict[int, tuple[str | None, float | None]] = {}

    def fields(self, ident: int, item: Any) -> dict[str, Any]:
        """``eta`` (ISO time or ``None``) and ``progress`` of ``item`` (a
        watched task or build, or ``None``), noted as told."""
        eta = None if item is None else _iso(item.eta)
        progress = None if item is None else item.progress
        self._told[ident] = (eta, progress)
        return {"eta": eta, "progress": progress}

    def show(self, ident: int, item: Any, show: Any) -> None:
        """Print a progress line for ``item`` when its estimate moved."""
        if item.finished or item.eta is None:
            return
        eta, progress = self._told.get(ident, (None, None))
        moved = progress is None or (
            item.progress is not None and item.progress - progress >= self.STEP
        )
        if eta == _iso(item.eta) and not moved:
            return
        record = {"event": "progress", "id": ident, **self.fields(ident, item)}
        show(json.dumps(record))


class PlainTaskView:
    """Prints task changes as the official CLI does, or as JSON objects.

    :param details: where host names and failures come from.
    :param json_lines: print one JSON object per line instead.
    """

    def __init__(self, details: Details, json_lines: bool, out: TextIO = sys.stdout):
        self.details = details
        self.json_lines = json_lines
        self.out = out
        self._pending: list[tuple[int, str | None]] = []
        self._progress = ProgressLines()
        self._chain: defer.Deferred[Any] = defer.succeed(None)
        self.watcher: TaskWatcher | None = None

    def start(self, watcher: TaskWatcher) -> None:
        """Watching begins."""
        self.watcher = watcher
        if not self.json_lines:
            self._print("Watching tasks (this may be safely interrupted)...")

    #: A failure to reach the hub, or the recovery: a line on stderr.
    status = staticmethod(say)

    def event(self, event: Any) -> None:
        """Queue a transition, printed after the cycle's details arrive."""
        self._pending.append((event.task["id"], event.old))

    def cycle(self, watcher: TaskWatcher) -> None:
        """A poll cycle ended: fetch the details it needs, then print."""
        pending, self._pending = self._pending, []
        self._chain.addCallback(
            lambda _: defer.Deferred.fromCoroutine(self._flush(watcher, pending))
        )

    async def _flush(
        self, watcher: TaskWatcher, pending: list[tuple[int, str | None]]
    ) -> None:
        place = {node.id: index for index, node in enumerate(watcher.walk())}
        pending.sort(key=lambda change: place.get(change[0], -1))
        nodes = [watcher.get(task_id) for task_id, _ in pending]
        hosts = {n.task["host_id"] for n in nodes if n and n.task.get("host_id")}
        failed = [n.id for n in nodes if n and n.task["state"] == task_states.FAILED]
        await self.details.fetch(hosts, failed)
        finished_any = False
        for (_, old), node in zip(pending, nodes, strict=True):
            if node is None:
                continue
            finished_any = finished_any or node.finished
            self._show(node, old, watcher)
        if finished_any and not self.json_lines:
            self._print("  " + counts(list(watcher.walk())))
        if self.json_lines:
            for node in watcher.walk():
                self._progress.show(node.id, node, self._print)

    def _show(self, node: Any, old: str | None, watcher: TaskWatcher) -> None:
        task = node.task
        failure = self.details.failures.get(node.id)
        if self.json_lines:
            record = {
                "event": "TaskStateChange",
                "id": node.id,
                "parent": task.get("parent"),
                "method": task.get("method"),
                "label": label(node),
                "old": old,
                "new": task_states.to_str(task["state"]),
                "host": self.details.hosts.get(task.get("host_id")),
                **self._progress.fields(node.id, node),
            }
            if failure is not None:
                record.update(error=failure.error, logs=failure.logs)
            self._print(json.dumps(record))
            return
        indent = "  " * node.depth
        new = state_text(task, self.details)
        change = new if old is None else f"{old.lower()} -> {new}"
        self._print(f"{indent}{label(node)}: {change}")
        if failure is not None:
            self._print(f"{indent}  FAILED: {failure.error}")
            if failure.logs:
                self._print(f"{indent}  Relevant logs:")
                for url in failure.logs:
                    self._print(f"{indent}    {url}")

    async def settle(self) -> None:
        """Wait until everything queued is printed."""
        await self._chain

    def stop(self) -> None:
        """Watching ended in an error: nothing to tidy up."""

    def finish(self, watcher: TaskWatcher) -> None:
        """Print how each top-level task ended."""
        if not self.json_lines:
            self._print("")
        for root in watcher.roots:
            state = root.task["state"]
            if self.json_lines:
                self._print(
                    json.dumps(
                        {
                            "event": "result",
                            "id": root.id,
                            "state": task_states.to_str(state),
                        }
                    )
                )
            else:
                self._print(f"{label(root)} {ENDINGS.get(state, 'did not finish')}")

    def interrupted(self, watcher: TaskWatcher, resume: str) -> None:
        """Ctrl-C: say what still runs and how to resume."""
        running = [n for n in watcher.walk() if not n.finished]
        if self.json_lines:
            self._print(json.dumps({"event": "interrupted", "resume": resume}))
            return
        self._print("")
        if running:
            self._print("Tasks still running:")
            for node in running:
                self._print(f"  {label(node)}: {state_text(node.task, self.details)}")
        self._print(f"To resume watching, run: {resume}")

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)


class PlainBuildView:
    """Prints build changes, one line each, or as JSON objects."""

    def __init__(self, json_lines: bool, out: TextIO = sys.stdout) -> None:
        self.json_lines = json_lines
        self.out = out
        self.watcher: BuildWatcher | None = None
        self._progress = ProgressLines()

    def start(self, watcher: BuildWatcher) -> None:
        """Watching begins."""
        self.watcher = watcher
        if not self.json_lines:
            self._print("Watching builds (this may be safely interrupted)...")

    #: A failure to reach the hub, or the recovery: a line on stderr.
    status = staticmethod(say)

    def event(self, event: Any) -> None:
        """Print a transition."""
        build = event.build
        if self.json_lines:
            self._print(
                json.dumps(
                    {
                        "event": "BuildStateChange",
                        "id": build["id"],
                        "nvr": build["nvr"],
                        "old": event.old,
                        "new": event.new,
                        "task_id": build.get("task_id"),
                        **self._progress.fields(build["id"], self._watched(build)),
                    }
                )
            )
            return
        new = event.new.lower()
        change = new if event.old is None else f"{event.old.lower()} -> {new}"
        self._print(f"{build['nvr']}: {change}")

    def _watched(self, build: Any) -> Any:
        for watched in self.watcher.watched if self.watcher else ():
            if watched.build is not None and watched.build["id"] == build["id"]:
                return watched
        return None

    def cycle(self, watcher: BuildWatcher) -> None:
        """A poll cycle ended: with ``--json``, tell the estimates that
        changed."""
        if self.json_lines:
            for watched in watcher.watched:
                if watched.build is not None:
                    self._progress.show(watched.build["id"], watched, self._print)

    async def settle(self) -> None:
        """Everything is printed at once: nothing to wait for."""

    def stop(self) -> None:
        """Watching ended in an error: nothing to tidy up."""

    def finish(self, watcher: BuildWatcher) -> None:
        """Print how each build ended."""
        if not self.json_lines:
            self._print("")
        for watched in watcher.watched:
            build = watched.build
            if build is None:
                continue
            state = build_states.to_str(build["state"])
            if self.json_lines:
                self._print(
                    json.dumps({"event": "result", "id": build["id"], "state": state})
                )
            else:
                self._print(f"{build['nvr']} {state.lower()}")

    def interrupted(self, watcher: BuildWatcher, resume: str) -> None:
        """Ctrl-C: say how to resume."""
        if self.json_lines:
            self._print(json.dumps({"event": "interrupted", "resume": resume}))
            return
        self._print(f"\nTo resume watching, run: {resume}")

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)
