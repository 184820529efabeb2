"""Durations and labels as people read them."""

from __future__ import annotations

import posixpath
from datetime import timedelta
from typing import Any


def human_duration(duration: timedelta | None) -> str:
    """Return ``duration`` as people say it: ``"45 s"``, ``"4 min 19 s"``,
    ``"12 min"``, ``"1 h 03 min"``, ``"2 d 4 h"``; ``"?"`` for ``None``.

    Seconds show only under ten minutes; the value is rounded to the unit
    shown, never printed as ``0:04:19.875000``.
    """
    if duration is None:
        return "?"
    seconds = max(int(round(duration.total_seconds())), 0)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    minutes = int(round(seconds / 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def _short_source(source: Any) -> str | None:
    if not isinstance(source, str):
        return None
    if "://" in source:
        base, _, revision = source.partition("#")
        path = base.rstrip("/").rsplit("/", 2)
        repo = "/".join(path[-2:])
        return f"{repo}:{revision}" if revision else repo
    return posixpath.basename(source)


def task_label(task: Any) -> str:
    """Return a task's label as the official CLI shows it, for the common
    methods: ``build (f40-candidate, rpms/bash:9f1c)``, ``buildArch
    (bash-5.2.src.rpm, x86_64)``, ``newRepo (f40-build)``; anything else
    ``method (arch)``."""
    method = task.get("method") or "?"
    try:
        if method in ("build", "maven"):
            extra = [task.target, _short_source(task.source)]
        elif method == "buildArch":
            extra = [_short_source(task.source), task.arch]
        elif method == "buildSRPMFromSCM":
            extra = [_short_source(task.source)]
        elif method in ("newRepo", "distRepo", "waitrepo"):
            extra = [task.tag]
        else:
            extra = []
    except ValueError:
        extra = []
    shown = [str(item) for item in extra if item is not None]
    return f"{method} ({', '.join(shown or [task.get('arch') or 'noarch'])})"
