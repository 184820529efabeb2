"""``listTaskOutput``: the files a task left in its work directory."""

from __future__ import annotations

import posixpath
from typing import Any

from txkoji.exceptions import GenericError
from txkoji.testing.dispatch import CallContext, hub_method

#: The logs kojid uploads for a task that ran mock, failed or not.
MOCK_LOGS = ("build.log", "hw_info.log", "mock_output.log", "root.log", "state.log")
MOCK_METHODS = ("buildArch", "buildSRPMFromSCM", "rebuildSRPM", "buildMaven")


@hub_method()
def listTaskOutput(
    ctx: CallContext,
    taskID: int,
    stat: bool = False,
    all_volumes: bool = False,
    strict: bool = False,
) -> Any:
    """Return the names of a task's output files, sorted: its result's
    ``rpms``, ``srpms`` and ``logs`` (base names) and, for a task that ran
    mock, mock's logs; nothing for a task that never started.  With
    ``stat``, a struct of name -> ``{st_size, st_atime, st_mtime,
    st_ctime}`` (sizes 0).

    :raises GenericError: for an unknown task when ``strict``.
    """
    task = ctx.state.tasks.get(taskID)
    if task is None:
        if strict:
            raise GenericError(f"No such task: {taskID!r}")
        return {} if stat else []
    names: set[str] = set()
    if task["start_ts"] is not None:
        result = task.get("result")
        if isinstance(result, dict):
            for key in ("rpms", "srpms", "logs"):
                values = result.get(key) or []
                names.update(
                    posixpath.basename(v) for v in values if isinstance(v, str)
                )
        if task["method"] in MOCK_METHODS:
            names.update(MOCK_LOGS)
    ordered = sorted(names)
    if not stat:
        return ordered
    when = task["completion_ts"] or task["start_ts"]
    return {
        name: {"st_size": 0, "st_atime": when, "st_mtime": when, "st_ctime": when}
        for name in ordered
    }
