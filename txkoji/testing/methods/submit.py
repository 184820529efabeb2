"""Hub methods that submit and cancel work: ``build`` and ``cancelTask``.

On a hub that simulates (:meth:`FakeHub.simulate
<txkoji.testing.hub.FakeHub.simulate>`), a submitted build runs; on one
that does not, its task stays FREE, as on a hub without builders.
"""

from __future__ import annotations

import re
from typing import Any

from txkoji.exceptions import ActionNotAllowed, GenericError, ParameterError
from txkoji.testing.dispatch import CallContext, hub_method
from txkoji.testing.sessions import logged_in_user
from txkoji.testing.simulator import changes
from txkoji.testing.simulator.simulation import DEFAULT_PRIORITY

# The package a source URL builds: the repository's last path segment.
_REPOSITORY = re.compile(r"/([^/#?]+?)(?:\.git)?(?:[?#].*)?$")


def _package_of(src: Any) -> str:
    if _upload_path(src) and src.endswith(".src.rpm"):
        # An uploaded SRPM: <dir>/<name>-<version>-<release>.src.rpm
        return src.rsplit("/", 1)[-1][: -len(".src.rpm")].rsplit("-", 2)[0]
    found = _REPOSITORY.search(src) if isinstance(src, str) and "://" in src else None
    if found is None:
        raise GenericError(
            f"Invalid source: {src!r} (the fake hub builds SCM URLs and uploaded SRPMs)"
        )
    return found.group(1)


def _upload_path(src: Any) -> bool:
    """Whether ``src`` names a file in the work area (``<dir>/<name>``)."""
    return isinstance(src, str) and "://" not in src and "/" in src


def _check_upload(ctx: CallContext, src: Any) -> None:
    """Refuse a work-area path (an uploaded SRPM) with no file there."""
    if _upload_path(src):
        directory, _, name = src.rpartition("/")
        if not ctx.hub.files.existing_upload(directory, name).is_file():
            raise GenericError(f"No such file: {src} (upload it first)")


@hub_method(write=True)
def build(
    ctx: CallContext,
    src: str,
    target: str,
    opts: dict[str, Any] | None = None,
    priority: int | None = None,
) -> int:
    """Submit a build of SCM URL ``src`` (``git+https://host/rpms/NAME.git#
    commit``), or of an SRPM uploaded to the work area (its path there), to
    build target ``target``; return the ``build`` task's id.

    ``opts`` are kept in the request; ``scratch`` and ``arch_override``
    (space-separated arches) shape a simulated build.  ``priority`` is
    relative to the default (20); only admins may make it negative.

    :raises AuthError: when not logged in.
    :raises ActionNotAllowed: for a negative priority.
    :raises GenericError: for an unknown target, an upload path with no
        file there, or (when simulating) a source whose package the hub
        does not know.
    :raises ParameterError: for opts that are no struct.
    """
    user = logged_in_user(ctx)
    st = ctx.state
    if opts is not None and not isinstance(opts, dict):
        raise ParameterError(f"opts must be a struct, not {opts!r}")
    if priority is not None and priority < 0:
        raise ActionNotAllowed("only admins may create high-priority tasks")
    tgt = st.find("targets", target, True, "build target")
    _check_upload(ctx, src)
    opts = dict(opts or {})
    simulator = ctx.hub.simulator
    if simulator is None:
        return changes.create_task(
            st,
            "build",
            [src, tgt["name"], opts],
            user["id"],
            priority=DEFAULT_PRIORITY + (priority or 0),
            weight=0.2,
        )["id"]
    arches = opts.get("arch_override")
    return simulator.start_build(
        _package_of(src),
        tgt["id"],
        owner=user["id"],
        scratch=bool(opts.get("scratch")),
        arches=arches.split() if isinstance(arches, str) else None,
        source=src,
        priority=priority or 0,
    )


@hub_method(write=True)
def cancelTask(ctx: CallContext, task_id: int, recurse: bool = True) -> None:
    """Cancel a task of the caller's: it becomes CANCELED (with, when
    ``recurse``, its unfinished descendants) and a BUILDING build of it
    becomes CANCELED.  A finished task is left as it is.

    :raises AuthError: when not logged in.
    :raises ActionNotAllowed: ``Cannot cancel task, not owner``.
    :raises GenericError: for an unknown task.
    """
    user = logged_in_user(ctx)
    task = ctx.state.tasks.get(task_id)
    if task is None:
        raise GenericError(f"No such task id: {task_id}")
    if task["owner"] != user["id"]:
        raise ActionNotAllowed("Cannot cancel task, not owner")
    simulator = ctx.hub.simulator
    if simulator is not None:
        simulator.cancel_task(task_id, recurse=recurse)
    else:
        changes.cancel_task(ctx.state, task, recurse=recurse)
