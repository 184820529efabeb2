"""Names of transferred files: where a download may be written, and the
upload directory names the official CLI uses."""

from __future__ import annotations

import os
import random
import string
from pathlib import Path, PurePosixPath
from typing import Any

from txkoji.exceptions import UnsafePathError


def safe_relative(name: str) -> PurePosixPath:
    """Return ``name`` (a file name from the hub, or a path relative to a
    destination) as a relative path that stays inside its directory.

    :raises UnsafePathError: for an empty name, an absolute path, a ``..``
        part, a NUL byte or a backslash.
    """
    if not isinstance(name, str) or not name:
        raise UnsafePathError(f"refusing an empty or non-text file name: {name!r}")
    if "\0" in name or "\\" in name:
        raise UnsafePathError(f"refusing file name {name!r}: NUL byte or backslash")
    path = PurePosixPath(name)
    if path.is_absolute() or name.startswith("~"):
        raise UnsafePathError(f"refusing file name {name!r}: it is absolute")
    if any(part == ".." for part in path.parts):
        raise UnsafePathError(f"refusing file name {name!r}: it contains '..'")
    if not path.parts or path.parts == (".",):
        raise UnsafePathError(f"refusing file name {name!r}: it names no file")
    return path


def destination(dest_dir: str | os.PathLike[str], name: str) -> Path:
    """Return where ``name`` is written under ``dest_dir``, after checking
    that it cannot land outside it (symbolic links included).

    :raises UnsafePathError: when it would.
    """
    base = Path(dest_dir).resolve()
    target = base.joinpath(*safe_relative(name).parts)
    resolved = target.resolve()
    if resolved != base and base not in resolved.parents:
        raise UnsafePathError(
            f"refusing file name {name!r}: it resolves outside {str(base)!r}"
        )
    return target


def unique_upload_dir(prefix: str = "cli-build", clock: Any = None) -> str:
    """Return a fresh upload directory name as the official CLI makes them:
    ``<prefix>/<seconds>.<8 random letters>``.

    :param clock: where the time comes from (anything with ``seconds()``);
        the reactor by default.
    """
    if clock is None:
        from twisted.internet import reactor as clock
    letters = "".join(random.choices(string.ascii_letters, k=8))  # noqa: S311
    return f"{prefix}/{clock.seconds()!r}.{letters}"
