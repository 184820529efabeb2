"""Where Koji's files live under ``topurl`` (HTTP) or ``topdir`` (disk).

:class:`PathInfo` has the official ``koji.PathInfo`` method names and gives
the same strings for the same input, so code written against the official
class reads the same here::

    from txkoji.paths import PathInfo

    pathinfo = PathInfo("https://kojipkgs.example.com/kojifiles")
    pathinfo.build(build)               # .../packages/bash/5.2.26/1.fc40
    pathinfo.rpm(rpm)                   # x86_64/bash-5.2.26-1.fc40.x86_64.rpm
    pathinfo.task(57104821)             # .../work/tasks/4821/57104821

Methods named as the official ones return what those return: some give a
full path (``build``, ``task``, ``repo``...), some a path relative to the
build directory (``rpm``, ``signed``, ``sighdr``) or to a type directory
(``mavenfile``, ``winfile``).  The methods the official class lacks
(:meth:`PathInfo.rpm_file`, :meth:`PathInfo.archive`,
:meth:`PathInfo.task_file`, :meth:`PathInfo.upload`,
:meth:`PathInfo.scratch_task`, :meth:`PathInfo.relative`) always give full
paths.  Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from txkoji.exceptions import IncompleteRecord, KojiConfigError

#: The official client's default top directory.
DEFAULT_TOPDIR = "/mnt/koji"

#: Build types whose files have a directory of their own name.
_LEGACY_TYPE_DIRS = {"maven": "maven", "win": "win", "image": "images"}


def _field(record: Mapping[str, Any], key: str, what: str) -> Any:
    """Return ``record[key]``.

    :raises IncompleteRecord: naming ``what`` and the missing field.
    """
    try:
        return record[key]
    except (KeyError, TypeError):
        raise IncompleteRecord(
            f"the {what} record has no {key!r} field, needed for its path "
            f"(fields: {sorted(record) if isinstance(record, Mapping) else record!r})"
        ) from None


class PathInfo:
    """The file layout of one Koji instance (section 15 of the protocol
    notes).

    :param topdir: the top of the tree: a ``topurl`` such as
        ``https://kojipkgs.example.com/kojifiles`` or a ``topdir`` such as
        ``/mnt/koji`` (the default).  It is used as given: give it without
        a trailing slash.
    """

    def __init__(self, topdir: str | None = None) -> None:
        self.topdir: str = DEFAULT_TOPDIR if topdir is None else topdir

    @classmethod
    def for_connection(cls, connection: Any) -> PathInfo:
        """Return the layout under a connection's ``topurl``.

        :raises KojiConfigError: when the connection has no ``topurl``.
        """
        topurl = getattr(connection, "topurl", None)
        if not topurl:
            raise KojiConfigError(
                f"{connection!r} has no topurl option: set topurl in the profile "
                "(e.g. https://kojipkgs.example.com/kojifiles) to reach files"
            )
        return cls(topurl.rstrip("/"))

    def __repr__(self) -> str:
        return f"<PathInfo {self.topdir}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PathInfo) and other.topdir == self.topdir

    def __hash__(self) -> int:
        return hash(self.topdir)

    # -- the official method names ---------------------------------------

    def volumedir(self, volume: str | None) -> str:
        """Return the top of a volume (the top itself for ``DEFAULT`` or
        ``None``, else ``<top>/vol/<volume>``)."""
        if volume is None or volume == "DEFAULT":
            return self.topdir
        return f"{self.topdir}/vol/{volume}"

    def build(self, build: Mapping[str, Any]) -> str:
        """Return a build's directory,
        ``<volume>/packages/<name>/<version>/<release>``.

        :raises IncompleteRecord: when ``name``, ``version`` or ``release``
            is missing.
        """
        name = _field(build, "name", "build")
        version = _field(build, "version", "build")
        release = _field(build, "release", "build")
        volume = self.volumedir(build.get("volume_name"))
        return f"{volume}/packages/{name}/{version}/{release}"

    def mavenbuild(self, build: Mapping[str, Any]) -> str:
        """Return a build's Maven directory (``<build dir>/maven``)."""
        return self.build(build) + "/maven"

    def mavenrepo(self, maveninfo: Mapping[str, Any]) -> str:
        """Return an artifact's directory relative to the Maven directory:
        ``<group_id with dots as slashes>/<artifact_id>/<version>``."""
        group = _field(maveninfo, "group_id", "maven archive").replace(".", "/")
        artifact = _field(maveninfo, "artifact_id", "maven archive")
        version = _field(maveninfo, "version", "maven archive")
        return f"{group}/{artifact}/{version}"

    def mavenfile(self, maveninfo: Mapping[str, Any]) -> str:
        """Return an artifact's path relative to the Maven directory."""
        filename = _field(maveninfo, "filename", "maven archive")
        return f"{self.mavenrepo(maveninfo)}/{filename}"

    def winbuild(self, build: Mapping[str, Any]) -> str:
        """Return a build's Windows directory (``<build dir>/win``)."""
        return self.build(build) + "/win"

    def winfile(self, wininfo: Mapping[str, Any]) -> str:
        """Return a Windows file's path relative to the Windows directory
        (``<relpath>/<filename>``, or the file name alone)."""
        filename = _field(wininfo, "filename", "win archive")
        relpath = _field(wininfo, "relpath", "win archive")
        return f"{relpath}/{filename}" if relpath else filename

    def imagebuild(self, build: Mapping[str, Any]) -> str:
        """Return a build's image directory (``<build dir>/images``)."""
        return self.build(build) + "/images"

    def typedir(self, build: Mapping[str, Any], btype: str) -> str:
        """Return the directory of a build's files of type ``btype``:
        ``maven``, ``win``, ``images`` for the three legacy types,
        ``files/<btype>`` for the others."""
        legacy = _LEGACY_TYPE_DIRS.get(btype)
        if legacy is not None:
            return f"{self.build(build)}/{legacy}"
        return f"{self.build(build)}/files/{btype}"

    def rpm(self, rpminfo: Mapping[str, Any]) -> str:
        """Return an RPM's path relative to its build directory:
        ``<arch>/<name>-<version>-<release>.<arch>.rpm``."""
        arch = _field(rpminfo, "arch", "rpm")
        name = _field(rpminfo, "name", "rpm")
        version = _field(rpminfo, "version", "rpm")
        release = _field(rpminfo, "release", "rpm")
        return f"{arch}/{name}-{version}-{release}.{arch}.rpm"

    def signed(self, rpminfo: Mapping[str, Any], sigkey: str) -> str:
        """Return the path of an RPM's copy signed with ``sigkey``,
        relative to the build directory."""
        return f"data/signed/{sigkey}/{self.rpm(rpminfo)}"

    def sighdr(self, rpminfo: Mapping[str, Any], sigkey: str) -> str:
        """Return the path of an RPM's cached signature header for
        ``sigkey``, relative to the build directory."""
        return f"data/sigcache/{sigkey}/{self.rpm(rpminfo)}.sig"

    def build_logs(self, build: Mapping[str, Any]) -> str:
        """Return a build's log directory (``<build dir>/data/logs``)."""
        return self.build(build) + "/data/logs"

    def repo(self, repo_id: int, tag_str: str) -> str:
        """Return a tag repo's directory, ``<top>/repos/<tag>/<repo id>``."""
        return f"{self.topdir}/repos/{tag_str}/{repo_id}"

    def distrepo(self, repo_id: int, tag: str, volume: str | None = None) -> str:
        """Return a dist repo's directory,
        ``<volume>/repos-dist/<tag>/<repo id>``."""
        return f"{self.volumedir(volume)}/repos-dist/{tag}/{repo_id}"

    def repocache(self, tag_str: str) -> str:
        """Return a tag's repo cache directory, ``<top>/repos/<tag>/cache``."""
        return f"{self.topdir}/repos/{tag_str}/cache"

    def taskrelpath(self, task_id: int) -> str:
        """Return a task's directory relative to the work area,
        ``tasks/<id % 10000>/<id>``."""
        if isinstance(task_id, bool) or not isinstance(task_id, int):
            raise IncompleteRecord(f"a task id must be an integer, not {task_id!r}")
        return f"tasks/{task_id % 10000}/{task_id}"

    def work(self, volume: str | None = None) -> str:
        """Return the work area of a volume (``<volume>/work``)."""
        return self.volumedir(volume) + "/work"

    def scratch(self) -> str:
        """Return the scratch area (``<top>/scratch``)."""
        return self.topdir + "/scratch"

    def task(self, task_id: int, volume: str | None = None) -> str:
        """Return a task's output directory,
        ``<volume>/work/tasks/<id % 10000>/<id>``."""
        return f"{self.work(volume)}/{self.taskrelpath(task_id)}"

    # -- full paths the official class leaves to its callers -------------

    def relative(self, relpath: str) -> str:
        """Return ``<top>/<relpath>`` (for paths the hub gives relative to
        the top, such as ``getBuildLogs``' ``path``)."""
        return f"{self.topdir}/{relpath.lstrip('/')}"

    def rpm_file(
        self,
        build: Mapping[str, Any],
        rpminfo: Mapping[str, Any],
        sigkey: str | None = None,
    ) -> str:
        """Return the full path of an RPM of ``build``: the signed copy
        when ``sigkey`` is given, else the unsigned one."""
        inside = self.signed(rpminfo, sigkey) if sigkey else self.rpm(rpminfo)
        return f"{self.build(build)}/{inside}"

    def archive_relpath(self, archive: Mapping[str, Any]) -> str:
        """Return an archive's path relative to its type directory (the
        name ``koji download-build`` saves it under): the Maven or Windows
        layout for those types, the file name for the others."""
        btype = _field(archive, "btype", "archive")
        if btype == "maven":
            return self.mavenfile(archive)
        if btype == "win":
            return self.winfile(archive)
        return _field(archive, "filename", "archive")

    def archive(self, build: Mapping[str, Any], archive: Mapping[str, Any]) -> str:
        """Return the full path of one of ``build``'s archives (as
        ``listArchives`` gives them, with ``btype``)."""
        btype = _field(archive, "btype", "archive")
        return f"{self.typedir(build, btype)}/{self.archive_relpath(archive)}"

    def task_file(self, task_id: int, name: str, volume: str | None = None) -> str:
        """Return the full path of a task's output file ``name`` (as
        ``listTaskOutput`` names it)."""
        return f"{self.task(task_id, volume)}/{name}"

    def upload(self, path: str, name: str, volume: str | None = None) -> str:
        """Return where an upload to ``path``/``name`` lands,
        ``<volume>/work/<path>/<name>``."""
        return f"{self.work(volume)}/{path.strip('/')}/{name}"

    def scratch_task(self, owner_name: str, task_id: int) -> str:
        """Return where a scratch build's files are kept,
        ``<top>/scratch/<owner>/task_<task id>`` (for RPM builds, the id of
        the parent ``build`` task)."""
        return f"{self.scratch()}/{owner_name}/task_{task_id}"
