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


def _line(text: str, style: str = "") -> Text:
    """A line cut to the terminal's width (never wrapped)."""
    return Text(text, style=style, no_wrap=True, overflow="ellipsis")


#: Columns beside the label, and the order they give way in when the
#: terminal is too narrow for all of them.
_COLUMNS = ("state", "elapsed", "bar", "eta")
_DROPPED_FIRST = ("bar", "elapsed", "eta")
#: Cells of the label column kept before another column is dropped.
MIN_LABEL = 24
PADDING = 2


class _Rows:
    """The rows of a live view, laid out to the terminal's width: one
    line each, the label cut with an ellipsis, and the bar, the elapsed
    time and the time left dropped (in that order) when even so a row
    would not fit.  A wrapped row would break the tree."""

    def __init__(self) -> None:
        self._rows: list[tuple[str, dict[str, Any], str]] = []

    def add(
        self,
        label: str,
        state: str = "",
        style: str = "",
        elapsed: str = "",
        progress: float | None = None,
        eta: str = "",
    ) -> None:
        """A row about one task or build."""
        cells = {"state": state, "elapsed": elapsed, "bar": progress, "eta": eta}
        self._rows.append((label, cells, style))

    def note(self, text: str, style: str) -> None:
        """A row with only a label (a failure under its task)."""
        self._rows.append((text, {}, style))

    def _widths(self) -> dict[str, int]:
        widths = dict.fromkeys(_COLUMNS, 0)
        for _, cells, _ in self._rows:
            for name, value in cells.items():
                if name == "bar":
                    widths[name] = BAR_WIDTH if value is not None else widths[name]
                else:
                    widths[name] = max(widths[name], len(value))
        return widths

    def table(self, width: int) -> Group:
        """The rows in ``width`` cells: aligned columns, and each note on a
        line of its own (the whole width) under its row."""
        widths = self._widths()
        shown = [name for name in _COLUMNS if widths[name]]
        labels = max((len(text) for text, cells, _ in self._rows if cells), default=0)

        def others() -> int:
            return sum(widths[c] + PADDING for c in shown)

        for name in _DROPPED_FIRST:
            if min(labels, MIN_LABEL) + others() <= width:
                break
            if name in shown:
                shown.remove(name)
        label_width = max(min(labels, width - others()), 1)
        parts: list[Any] = []
        grid: Table | None = None
        for text, cells, style in self._rows:
            if not cells:
                parts.append(_line(text, style))
                grid = None
                continue
            if grid is None:
                grid = Table.grid(padding=(0, PADDING))
                grid.add_column(width=label_width, overflow="ellipsis")
                for name in shown:
                    grid.add_column(width=widths[name], no_wrap=True)
                parts.append(grid)
            row: list[Any] = [_line(text)]
            for name in shown:
                value = cells[name]
                if name == "bar":
                    row.append(_bar(value))
                else:
                    row.append(_line(value, style if name == "state" else ""))
            grid.add_row(*row)
        return Group(*parts)


class _LiveView(ABC):
    """What both live views share: the Live display and its redraws."""

    def __init__(self, reactor: Any, console: Console | None = None) -> None:
        self.console = console or Console()
        self.reactor = reactor
        self.live = Live(console=self.console, auto_refresh=False)
        self._redraw = task.LoopingCall(self.refresh)
        self._redraw.clock = reactor
        self.watcher: Any = None
        #: The line telling that the hub fails, and when the next try is.
        self.problem: str | None = None

    @abstractmethod
    def render(self) -> Any:
        """The renderable of the current state."""

    def status(self, text: str, failing: bool) -> None:
        """Show ``text`` in the status line while the hub fails; clear
        it once it answers again."""
        self.problem = text if failing else None
        if self.live.is_started:
            self.refresh()

    def _with_status(self, *parts: Any) -> Any:
        if self.problem is not None:
            parts += (_line(self.problem, "bold yellow"),)
        return Group(*parts)

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
        rows = _Rows()
        nodes = list(self.watcher.walk())
        for node in nodes:
            rows.add(
                "  " * node.depth + label(node),
                state_text(node.task, self.details),
                STYLES.get(node.task["state"], ""),
                elapsed_text(node.task, now),
                node.progress,
                eta_text(node, now),
            )
            failure = self.details.failures.get(node.id)
            if failure is not None:
                indent = "  " * (node.depth + 1)
                rows.note(f"{indent}FAILED: {failure.error}", "red")
        table = rows.table(self.console.width)
        return self._with_status(table, _line(counts(nodes), "bold"))

    def finish(self, watcher: Any) -> None:
        """Leave the last frame, then tell each failure whole (the frame
        cuts it to the width), where the failed tasks' logs are, and how
        each top-level task ended."""
        self.stop()
        for node in watcher.walk():
            failure = self.details.failures.get(node.id)
            if failure is not None:
                self.console.print(
                    Text(f"{node.id} FAILED: {failure.error}"), soft_wrap=True
                )
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
        rows = _Rows()
        for watched in self.watcher.watched:
            build = watched.build
            if build is None:
                rows.add(str(watched.ref), "...")
                continue
            rows.add(
                build["nvr"],
                build.state_name.lower(),
                BUILD_STYLES.get(build["state"], ""),
                elapsed_text(build, now),
                watched.progress,
                eta_text(watched, now),
            )
        return self._with_status(rows.table(self.console.width))

    def finish(self, watcher: Any) -> None:
        """Leave the last frame and print each build's end."""
        self.stop()
        for watched in watcher.watched:
            self.console.print(
                f"{watched.build['nvr']} {watched.build.state_name.lower()}"
            )
