"""A task's request parameters, and what they say about the task.

``getTaskInfo(id, request=True)`` sends the request as a list; older hubs
(and ``listTasks`` without ``decode``) send the raw XML-RPC ``<params>``
document.  :func:`parse_request` reads both.  :data:`SIGNATURES` knows,
for every task method Koji ships (and the ``buildContainer`` plugin),
where its arch, tag, target, source and package sit among the parameters.
"""

from __future__ import annotations

import posixpath
import xmlrpc.client
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from xml.parsers.expat import ExpatError

from txkoji.exceptions import KojiException

#: Where a value sits: a parameter index, or (index, key) for a member of a
#: struct parameter.
Path = int | tuple[int, str]


class TaskParamsError(KojiException, ValueError):
    """A task's request (or a value in it) cannot be read.

    Also a ``ValueError``, as txkoji 0.10 raised for an unparseable source.
    """


@dataclass(frozen=True)
class TaskSignature:
    """Where one task method keeps its interesting parameters.

    :ivar arch: the one architecture the task works on.
    :ivar arches: a list of architectures.
    :ivar tag: a tag id or name.
    :ivar target: a build target name.
    :ivar source: the source URL or SRPM path the task builds from.
    :ivar package: the package (or image) name, when a parameter holds it;
        otherwise the package is read from ``source`` when
        ``package_from_source`` is set.
    :ivar build: a build id.
    :ivar container: the task builds a container (its package name is the
        source repository's name plus ``-container``).
    """

    arch: Path | None = None
    arches: Path | None = None
    tag: Path | None = None
    target: Path | None = None
    source: Path | None = None
    package: Path | None = None
    package_from_source: bool = False
    build: Path | None = None
    container: bool = False


def _scm(source: int = 0, **kwargs: Any) -> TaskSignature:
    return TaskSignature(source=source, package_from_source=True, **kwargs)


def _image(arch: Path | None = None, arches: Path | None = None) -> TaskSignature:
    """``name, version, arch(es), target, ...``: the image-style methods."""
    return TaskSignature(package=0, arch=arch, arches=arches, target=3)


def _image_subtask() -> TaskSignature:
    """``name, version, release, arch, target_info, build_tag, ...``."""
    return TaskSignature(package=0, arch=3, target=(4, "name"), tag=5)


#: Parameter layout by task method (see koji-protocol.md, section 8).
SIGNATURES: dict[str, TaskSignature] = {
    "build": _scm(target=1),
    "buildArch": _scm(tag=1, arch=2),
    "buildSRPMFromSCM": _scm(tag=1),
    "rebuildSRPM": _scm(tag=1),
    "tagBuild": TaskSignature(tag=0, build=1),
    "tagNotification": TaskSignature(tag=2, build=4),
    "buildNotification": TaskSignature(
        package=(1, "name"), target=(2, "name"), build=(1, "id")
    ),
    "newRepo": TaskSignature(tag=0),
    "createrepo": TaskSignature(arch=1),
    "distRepo": TaskSignature(tag=0, arches=(3, "arch")),
    "createdistrepo": TaskSignature(tag=0, arch=2),
    "waitrepo": TaskSignature(tag=0),
    "chainbuild": TaskSignature(target=1),
    "maven": _scm(target=1),
    "buildMaven": _scm(tag=(1, "name")),
    "chainmaven": TaskSignature(target=1),
    "wrapperRPM": _scm(target=(1, "name")),
    "image": _image(arches=2),
    "createImage": _image_subtask(),
    "livecd": _image(arch=2),
    "createLiveCD": _image_subtask(),
    "livemedia": _image(arches=2),
    "createLiveMedia": _image_subtask(),
    "appliance": _image(arch=2),
    "createAppliance": _image_subtask(),
    "indirectionimage": TaskSignature(
        arch=(0, "arch"), target=(0, "target"), package=(0, "name")
    ),
    "runroot": TaskSignature(tag=0, arch=1),
    "winbuild": TaskSignature(package=0, source=1, target=2),
    "vmExec": TaskSignature(package=0),
    "buildContainer": _scm(target=1, container=True),
}

_NO_SIGNATURE = TaskSignature()


def parse_request(request: Any) -> list[Any] | None:
    """Return a task's request parameters as a list.

    :param request: the ``request`` member of a task record: a list, or the
        raw XML-RPC ``<params>`` document as a string; ``None`` when the
        record has none.
    :returns: the parameters, or ``None`` when ``request`` is ``None``.
    :raises TaskParamsError: when the document is not XML-RPC params, or
        carries a DOCTYPE (never part of XML-RPC, and the door to entity
        expansion attacks).
    """
    if request is None:
        return None
    if isinstance(request, (list, tuple)):
        return list(request)
    if not isinstance(request, (str, bytes)):
        raise TaskParamsError(
            f"task request is neither a list nor XML: {type(request).__name__}"
        )
    text = request.decode("utf-8", "replace") if isinstance(request, bytes) else request
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        raise TaskParamsError("task request XML carries a DOCTYPE; refused")
    try:
        params, _ = xmlrpc.client.loads(text, use_builtin_types=True)
    except (ExpatError, xmlrpc.client.ResponseError, ValueError, TypeError) as e:
        raise TaskParamsError(f"task request is not XML-RPC params: {e}")
    return list(params)


def signature(method: str | None) -> TaskSignature:
    """Return the :class:`TaskSignature` of a task method (an empty one for
    methods txkoji does not know, or a ``method`` that is not a string)."""
    if not isinstance(method, str):
        return _NO_SIGNATURE
    return SIGNATURES.get(method, _NO_SIGNATURE)


def pick(params: Sequence[Any] | None, path: Path | None) -> Any:
    """Return the value at ``path`` in ``params``, or ``None`` when there is
    none (no params, too few, or not a struct where one was expected)."""
    if params is None or path is None:
        return None
    index, key = (path, None) if isinstance(path, int) else path
    if index >= len(params):
        return None
    value = params[index]
    if key is None:
        return value
    return value.get(key) if isinstance(value, dict) else None


def package_from_source(source: Any, container: bool = False) -> str:
    """Return the package name a source builds.

    :param source: an SRPM path or URL (``.../bash-5.2.26-1.fc40.src.rpm``)
        or an SCM URL (``git+https://src.example.com/rpms/bash.git#abc``).
    :param container: add ``-container`` to an SCM repository's name (the
        convention of container build packages), unless it is there.
    :raises TaskParamsError: when ``source`` is neither.
    """
    if not isinstance(source, str) or not source:
        raise TaskParamsError(f"could not parse source {source!r}")
    parts = urlsplit(source)
    if parts.path.endswith(".src.rpm"):
        nvr = posixpath.basename(parts.path)[: -len(".src.rpm")]
        pieces = nvr.rsplit("-", 2)
        if len(pieces) == 3 and all(pieces):
            return pieces[0]
        raise TaskParamsError(f"could not parse source {source!r}")
    name = posixpath.basename(parts.path.rstrip("/"))
    if not parts.scheme or not name:
        raise TaskParamsError(f"could not parse source {source!r}")
    name = name.removesuffix(".git")
    if container and not name.endswith("-container"):
        name += "-container"
    return name
