"""How the file commands show their transfers: a ``rich`` progress bar
per file (transfer rate, time left) on a terminal, plain lines otherwise,
or one JSON object per line."""

from __future__ import annotations

import json
import sys
from typing import Any

from twisted.internet import task


def _size(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GiB"


class PlainTransfers:
    """Print a line per finished file (``--json``: a JSON object)."""

    def __init__(self, as_json: bool, out: Any = None) -> None:
        self.as_json = as_json
        self.out = out or sys.stdout

    def start(self) -> None:
        """Nothing to set up."""

    def progress(self, name: str, done: int, total: int | None) -> None:
        """Nothing to show before a file is done."""

    def file_done(self, verb: str, name: str, where: str, size: int) -> None:
        """Report one finished file."""
        if self.as_json:
            line = json.dumps(
                {"event": verb, "file": name, "path": where, "bytes": size}
            )
        else:
            line = f"{verb} {where} ({_size(size)})"
        print(line, file=self.out, flush=True)

    def stop(self) -> None:
        """Nothing to tear down."""

    def message(self, text: str, **fields: Any) -> None:
        """Print a closing line (``--json``: ``{"event": ..., **fields}``)."""
        if self.as_json:
            print(json.dumps(fields), file=self.out, flush=True)
        else:
            print(text, file=self.out, flush=True)


class LiveTransfers(PlainTransfers):
    """A ``rich`` progress bar per file, redrawn on the reactor."""

    def __init__(self, reactor: Any, out: Any = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        super().__init__(False, out)
        self.progress_bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(binary_units=True),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(file=self.out),
            auto_refresh=False,
        )
        self._bars: dict[str, Any] = {}
        self._redraw = task.LoopingCall(self.progress_bars.refresh)
        self._redraw.clock = reactor

    def start(self) -> None:
        """Show the bars and redraw them ten times a second."""
        self.progress_bars.start()
        self._redraw.start(0.1)

    def progress(self, name: str, done: int, total: int | None) -> None:
        """Move ``name``'s bar."""
        bar = self._bars.get(name)
        if bar is None:
            bar = self._bars[name] = self.progress_bars.add_task(name, total=total)
        self.progress_bars.update(bar, completed=done, total=total)

    def file_done(self, verb: str, name: str, where: str, size: int) -> None:
        """Fill ``name``'s bar."""
        self.progress(name, size, size)

    def stop(self) -> None:
        """Draw the last frame and leave the bars on the screen."""
        if self._redraw.running:
            self._redraw.stop()
        self.progress_bars.refresh()
        self.progress_bars.stop()

    def message(self, text: str, **fields: Any) -> None:
        """Print a closing line under the bars."""
        self.progress_bars.console.print(text, highlight=False)


def transfers_view(reactor: Any, as_json: bool) -> PlainTransfers:
    """Return the live view on a terminal with ``rich`` installed and no
    ``--json``; else plain lines (with a hint on stderr when only ``rich``
    is missing)."""
    if as_json or not sys.stdout.isatty():
        return PlainTransfers(as_json)
    try:
        import rich  # noqa: F401
    except ImportError:
        print("txkoji: install txkoji[cli] for progress bars", file=sys.stderr)
        return PlainTransfers(False)
    return LiveTransfers(reactor)
