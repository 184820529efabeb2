"""The live terminal view of the watch commands (needs ``rich``, from
the ``txkoji[cli]`` extra): one line per task or build with its state,
elapsed time, a progress bar and the time left, redrawn every second on
the reactor."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text
from twisted.internet import defer, task

from txkoji import build_states, task_states
from txkoji.cli.details import Details
from txkoji.cli.tasklines import (
    ENDINGS,
    counts,
    elapsed_text,
    eta_text,
    label,
    state_text,
)

STYLES = {
    task_states.CLOSED: "green",
    task_states.FAILED: "bold red",
    task_states.CANCELED: "yellow",
    task_states.OPEN: "cyan",
}
BUILD_STYLES = {
    build_states.COMPLETE: "green",
    build_states.FAILED: "bold red",
    build_states.CANCELED: "yellow",
    build_states.DELETED: "yellow",
    build_states.BUILDING: "cyan",
}
BAR_WIDTH = 24


def _bar(progress: float | None) -> Any:
    if progress is None:
        return Text("")
    return ProgressBar(total=1.0, completed=progress, width=BAR_WIDTH)


class _LiveView(ABC):
    """What both live views share: the Live display and its redraws."""

    def __init__(self, reactor: Any, console: Console | None = None) -> None:
        self.console = console or Console()
        self.reactor = reactor
        self.live = Live(console=self.console, auto_refresh=False)
        self._redraw = task.LoopingCall(self.refresh)
        self._redraw.clock = reactor
        self.watcher: Any = None

    @abstractmethod
    def render(self) -> Any:
        """The renderable of the current state."""

    def start(self, watcher: Any) -> None:
        """Show the view and redraw it every second."""
        self.watcher = watcher
        self.live.start()
        self._redraw.start(1.0)

    def refresh(self) -> None:
        """Redraw now."""
        self.live.update(self.render(), refresh=True)

    def stop(self) -> None:
        """Stop redrawing and leave the last frame on the screen."""
        if self._redraw.running:
            self._redraw.stop()
        if self.live.is_started:
            self.refresh()
            self.live.stop()

    def interrupted(self, watcher: Any, resume: str) -> None:
        """Ctrl-C: stop, and say how to resume."""
        self.stop()
        self.console.print(f"\nTo resume watching, run: [bold]{resume}[/]")


class LiveTaskView(_LiveView):
    """The live view of ``txkoji watch-task``."""

    def __init__(self, reactor: Any, details: Details, console: Console | None = None):
        super().__init__(reactor, console)
        self.details = details
        self._chain: defer.Deferred[Any] = defer.succeed(None)

    def event(self, event: Any) -> None:
        """Changes are drawn by the next redraw."""

    def cycle(self, watcher: Any) -> None:
        """After a poll: fetch host names and failures, then redraw."""
        nodes = list(watcher.walk())
        hosts = {n.task["host_id"] for n in nodes if n.task.get("host_id")}
        failed = [n.id for n in nodes if n.task["state"] == task_states.FAILED]

        async def update() -> None:
            await self.details.fetch(hosts, failed)
            self.refresh()

        self._chain.addCallback(lambda _: defer.Deferred.fromCoroutine(update()))

    async def settle(self) -> None:
        """Wait for the details asked for."""
        await self._chain

    def render(self) -> Any:
        """One row per task, then the counts."""
        now = self.watcher.now()
        table = Table.grid(padding=(0, 2))
        for _ in range(5):
            table.add_column()
        nodes = list(self.watcher.walk())
        for node in nodes:
            style = STYLES.get(node.task["state"], "")
            table.add_row(
                Text("  " * node.depth + label(node)),
                Text(state_text(node.task, self.details), style=style),
                Text(elapsed_text(node.task, now)),
                _bar(node.progress),
                Text(eta_text(node, now)),
            )
            failure = self.details.failures.get(node.id)
            if failure is not None:
                indent = "  " * (node.depth + 1)
                table.add_row(Text(f"{indent}FAILED: {failure.error}", style="red"))
        return Group(table, Text(counts(nodes), style="bold"))

    def finish(self, watcher: Any) -> None:
        """Leave the last frame, then tell how each top-level task ended and
        where the failed tasks' logs are."""
        self.stop()
        for node in watcher.walk():
            failure = self.details.failures.get(node.id)
            if failure is not None and failure.logs:
                self.console.print(f"Relevant logs of {node.id}:")
                for url in failure.logs:
                    self.console.print(f"  {url}", soft_wrap=True)
        for root in watcher.roots:
            ending = ENDINGS.get(root.task["state"], "did not finish")
            self.console.print(f"{label(root)} {ending}")


class LiveBuildView(_LiveView):
    """The live view of ``txkoji watch-build``."""

    def event(self, event: Any) -> None:
        """Changes are drawn by the next redraw."""

    def cycle(self, watcher: Any) -> None:
        """After a poll: redraw."""
        self.refresh()

    async def settle(self) -> None:
        """Nothing is drawn later than it happens."""

    def render(self) -> Any:
        """One row per build."""
        now = self.watcher.now()
        table = Table.grid(padding=(0, 2))
        for _ in range(5):
            table.add_column()
        for watched in self.watcher.watched:
            build = watched.build
            if build is None:
                table.add_row(Text(str(watched.ref)), Text("..."))
                continue
            table.add_row(
                Text(build["nvr"]),
                Text(
                    build.state_name.lower(), style=BUILD_STYLES.get(build["state"], "")
                ),
                Text(elapsed_text(build, now)),
                _bar(watched.progress),
                Text(eta_text(watched, now)),
            )
        return table

    def finish(self, watcher: Any) -> None:
        """Leave the last frame and print each build's end."""
        self.stop()
        for watched in watcher.watched:
            self.console.print(
                f"{watched.build['nvr']} {watched.build.state_name.lower()}"
            )
