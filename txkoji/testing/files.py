"""The fake hub's file tree: real (small) files on disk, laid out as under
a real hub's ``topdir`` (see :class:`txkoji.paths.PathInfo`).

:class:`HubFiles` makes the tree on first use, in a temporary directory
of its own unless given one:

* every COMPLETE content generator build has archives: a container image
  per arch (``images/``) and its remote sources (``files/remote-sources``);
* every COMPLETE RPM build has its RPMs (one per ``buildArch`` arch, a
  ``-debuginfo`` RPM next to each binary arch, and the source RPM), a copy
  of each signed with :data:`SIGKEY`, and logs under ``data/logs/<arch>``;
* every task that started has output under
  ``work/tasks/<id % 10000>/<id>``: the RPMs and logs its result names (a
  ``buildArch`` keeps the SRPM too) and, for one that ran mock, mock's
  logs (:data:`MOCK_LOGS`), also for tasks created later (a simulating
  hub's);
* uploads land under ``work/<path>/<name>``, each upload directory owned
  by its first uploader (a ``.user`` file).

Files are served over HTTP by :class:`txkoji.testing.file_server.FileTree`
and read by the hub methods of :mod:`txkoji.testing.methods.files`.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import weakref
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from txkoji.exceptions import GenericError, LockError
from txkoji.paths import PathInfo
from txkoji.testing.records import BUILD_STATES

if TYPE_CHECKING:
    from txkoji.testing.state import HubState

#: The signing key every bundled RPM has a signed copy for.
SIGKEY = "fd431d51"
#: The logs kojid uploads for a task that ran mock, failed or not.
MOCK_LOGS = ("build.log", "hw_info.log", "mock_output.log", "root.log", "state.log")
#: The task methods that run mock.
MOCK_METHODS = frozenset({"buildArch", "buildSRPMFromSCM", "rebuildSRPM", "buildMaven"})
#: The logs every build keeps per arch.
BUILD_LOGS = ("build.log", "root.log", "state.log")


def file_content(relpath: str, extra: bytes = b"") -> bytes:
    """Return the deterministic content of a bundled file: a few KiB that
    depend on its path (``extra`` distinguishes a signed copy)."""
    line = relpath.encode() + extra + b"\n"
    size = 1024 + zlib.crc32(relpath.encode()) % 4096
    return (line * (size // len(line) + 1))[:size]


class HubFiles:
    """The file tree of one fake hub (see the module docs).

    :param state: the hub's data, to lay out files for.
    :param topdir: the directory to use; a new temporary directory (removed
        when this object is collected) when None.
    :ivar rpms: build id -> the ``listRPMs`` records of its RPMs.
    :ivar archives: build id -> the ``listArchives`` records of its
        archives (content generator builds).
    :ivar signatures: RPM id -> {sigkey: sighash} of the signatures the
        hub records (``queryRPMSigs``).
    """

    def __init__(self, state: HubState, topdir: str | Path | None = None) -> None:
        self._state = state
        self._given = Path(topdir) if topdir is not None else None
        self._topdir: Path | None = None
        self.rpms: dict[int, list[dict[str, Any]]] = {}
        self.archives: dict[int, list[dict[str, Any]]] = {}
        self.signatures: dict[int, dict[str, str]] = {}
        self._locks: set[Path] = set()
        # The bundled files not yet on disk, by path under the top: they
        # are written when first asked for (writing them all costs
        # seconds on slow file systems).
        self._pending: dict[str, bytes] = {}
        self._laid_out: set[str] = set()

    @property
    def topdir(self) -> Path:
        """The tree's top directory, made on first use (the bundled files
        appear in it as they are asked for: see :meth:`path`)."""
        if self._topdir is None:
            if self._given is not None:
                top = self._given
                top.mkdir(parents=True, exist_ok=True)
            else:
                top = Path(tempfile.mkdtemp(prefix="txkoji-hub-"))
                weakref.finalize(self, shutil.rmtree, str(top), True)
            self._topdir = top
            self._populate()
        return self._topdir

    def path(self, relpath: str) -> Path:
        """Return the file or directory at ``relpath`` under the top,
        writing the bundled files at or below it first."""
        top = self.topdir
        relpath = relpath.strip("/")
        parts = relpath.split("/")
        if parts[:2] == ["work", "tasks"] and len(parts) > 3 and parts[3].isdigit():
            task = self._state.tasks.get(int(parts[3]))
            if task is not None:
                self._task_files(task)
        below = relpath + "/"
        for name in [n for n in self._pending if n == relpath or n.startswith(below)]:
            target = top / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self._pending.pop(name))
        return top / relpath

    def _write(self, relpath: str, content: bytes) -> None:
        self._pending[relpath] = content

    def _populate(self) -> None:
        for task in self._state.tasks.values():
            self._task_files(task)
        for build in self._state.builds.values():
            if build["state"] != BUILD_STATES["COMPLETE"]:
                continue
            if build.get("task_id"):
                self._build_files(build)
            elif build.get("cg_name"):
                self._archive_files(build)

    def _task_files(self, task: dict[str, Any]) -> None:
        """Lay out what a task has left so far (again as it moves on: a
        simulated task gains its RPMs when it closes): for one that started,
        the files its result names and, when it ran mock, mock's logs."""
        if task.get("start_ts") is None:
            return
        base = PathInfo("").taskrelpath(task["id"])
        names = list(MOCK_LOGS) if task["method"] in MOCK_METHODS else []
        result = task.get("result")
        if isinstance(result, dict):
            outputs = [result["srpm"]] if isinstance(result.get("srpm"), str) else []
            for key in ("rpms", "srpms", "logs"):
                outputs += [v for v in result.get(key) or [] if isinstance(v, str)]
            names += [path.rsplit("/", 1)[-1] for path in outputs]
        for name in names:
            relpath = f"work/{base}/{name}"
            if relpath not in self._laid_out:
                self._laid_out.add(relpath)
                self._write(relpath, file_content(f"{base}/{name}"))

    def _build_arches(self, build: dict[str, Any]) -> list[str]:
        return sorted(
            task["arch"]
            for task in self._state.tasks.values()
            if task["parent"] == build["task_id"] and task["method"] == "buildArch"
        )

    def _build_files(self, build: dict[str, Any]) -> None:
        layout = PathInfo("")
        build_dir = layout.build(build).lstrip("/")
        records = []
        arches = self._build_arches(build)
        wanted = [(build["name"], "src")]
        for arch in arches:
            wanted.append((build["name"], arch))
            if arch != "noarch":
                wanted.append((f"{build['name']}-debuginfo", arch))
        for number, (name, arch) in enumerate(wanted):
            rpm = {
                "id": build["id"] * 100 + number,
                "build_id": build["id"],
                "name": name,
                "version": build["version"],
                "release": build["release"],
                "epoch": build.get("epoch"),
                "arch": arch,
                "draft": False,
                "external_repo_id": 0,
                "external_repo_name": "INTERNAL",
                "buildroot_id": None,
                "buildtime": int(build.get("completion_ts") or 0),
                "metadata_only": False,
                "extra": None,
            }
            relpath = f"{build_dir}/{layout.rpm(rpm)}"
            content = file_content(relpath)
            rpm["size"] = len(content)
            rpm["payloadhash"] = hashlib.md5(content, usedforsecurity=False).hexdigest()
            self._write(relpath, content)
            signed = f"{build_dir}/{layout.signed(rpm, SIGKEY)}"
            copy = file_content(relpath, b" signed " + SIGKEY.encode())
            self._write(signed, copy)
            sighash = hashlib.md5(copy, usedforsecurity=False).hexdigest()
            self.signatures[rpm["id"]] = {SIGKEY: sighash}
            records.append(rpm)
        for arch in arches:
            for log in BUILD_LOGS:
                relpath = f"{build_dir}/data/logs/{arch}/{log}"
                self._write(relpath, file_content(relpath))
        self.rpms[build["id"]] = records

    def unsign(self, rpm: dict[str, Any], sigkey: str) -> None:
        """Forget ``rpm``'s signature with ``sigkey`` and remove its signed
        copy, as when an RPM was never signed with that key."""
        self.topdir  # noqa: B018 - lays the tree (and its records) out
        self.signatures.get(rpm["id"], {}).pop(sigkey.lower(), None)
        build = self._state.builds[rpm["build_id"]]
        layout = PathInfo("")
        relpath = f"{layout.build(build).lstrip('/')}/{layout.signed(rpm, sigkey)}"
        self._pending.pop(relpath, None)
        (self.topdir / relpath).unlink(missing_ok=True)

    def _archive_files(self, build: dict[str, Any]) -> None:
        """A content generator build's archives: a container image per
        arch (sha256 for x86_64, md5 for aarch64) and its remote
        sources."""
        layout = PathInfo("")
        wanted = [
            ("image", f"{build['nvr']}.x86_64.tar.gz", "tar", 2),
            ("image", f"{build['nvr']}.aarch64.tar.gz", "tar", 0),
            ("remote-sources", "remote-source.tar.gz", "tar", 2),
        ]
        records = []
        for number, (btype, filename, type_name, checksum_type) in enumerate(wanted):
            archive = {
                "id": build["id"] * 100 + number,
                "build_id": build["id"],
                "btype": btype,
                "btype_id": {"image": 4, "remote-sources": 5}[btype],
                "type_name": type_name,
                "filename": filename,
                "checksum_type": checksum_type,
                "buildroot_id": None,
                "metadata_only": False,
                "extra": None,
            }
            relpath = layout.archive(build, archive).lstrip("/")
            content = file_content(relpath)
            algorithm = "sha256" if checksum_type == 2 else "md5"
            archive["size"] = len(content)
            archive["checksum"] = hashlib.new(
                algorithm, content, usedforsecurity=False
            ).hexdigest()
            self._write(relpath, content)
            records.append(archive)
        self.archives[build["id"]] = records

    # -- lookups used by the hub methods ---------------------------------

    def build_logs(self, build: dict[str, Any]) -> list[dict[str, str]]:
        """Return ``getBuildLogs`` entries ``{name, dir, path}`` (``path``
        relative to the top) for the files under the build's log
        directory."""
        top = self.topdir
        logs_dir = self.path(PathInfo("").build_logs(build))
        if not logs_dir.is_dir():
            return []
        return [
            {
                "name": path.name,
                "dir": str(path.parent.relative_to(logs_dir)),
                "path": str(path.relative_to(top)),
            }
            for path in sorted(logs_dir.rglob("*"))
            if path.is_file()
        ]

    def task_dir(self, task_id: int) -> Path:
        """Return the output directory of a task (on the DEFAULT
        volume), with its files written."""
        return self.path("work/" + PathInfo("").taskrelpath(task_id))

    def task_output(self, task_id: int) -> Iterator[tuple[str, Path]]:
        """Yield ``(name relative to the task directory, path)`` for each
        output file of a task, sorted by name."""
        base = self.task_dir(task_id)
        if not base.is_dir():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file():
                yield str(path.relative_to(base)), path

    # -- the upload area --------------------------------------------------

    def upload_path(self, filepath: str, name: str, user_id: int) -> Path:
        """Return the file an upload of ``name`` to ``filepath`` writes,
        after the hub's checks; make its directory, owned by ``user_id``
        when new.

        :raises GenericError: for a name with ``/`` or a leading ``.``, a
            directory starting with ``..`` or ``tasks/``, or a directory
            owned by another user.
        """
        self.check_name(filepath, name)
        directory = self.topdir / "work" / filepath
        owner_file = directory / ".user"
        if owner_file.exists():
            if owner_file.read_text().strip() != str(user_id):
                raise GenericError(f"Invalid upload directory, not owner: {filepath}")
        else:
            directory.mkdir(parents=True, exist_ok=True)
            owner_file.write_text(f"{user_id}\n")
        return directory / name

    def existing_upload(self, filepath: str, name: str) -> Path:
        """Return where an uploaded file is (it may not exist), after the
        name checks."""
        self.check_name(filepath, name)
        return self.topdir / "work" / filepath / name

    @staticmethod
    def check_name(filepath: str, name: str) -> None:
        """Refuse upload names and directories the hub refuses.

        :raises GenericError: naming the problem.
        """
        if not name or "/" in name or name.startswith("."):
            raise GenericError(f"Invalid upload filename: {name!r}")
        parts = filepath.split("/")
        if filepath.startswith("/") or ".." in parts or "\0" in filepath:
            raise GenericError(f"Invalid upload directory: {filepath!r}")
        if parts[0] == "tasks":
            raise GenericError(
                f"upload directory {filepath!r} is reserved for builders"
            )

    def lock(self, path: Path) -> None:
        """Take the exclusive lock of an upload target.

        :raises LockError: when another upload holds it.
        """
        if path in self._locks:
            raise LockError(f"Unable to acquire lock on {path.name}: upload running")
        self._locks.add(path)

    def unlock(self, path: Path) -> None:
        """Release the lock of an upload target."""
        self._locks.discard(path)

    def is_locked(self, path: Path) -> bool:
        """Whether an upload to ``path`` is running."""
        return path in self._locks
