"""Benchmark client: txkoji 0.10 from PyPI.

Runs in ``benchmarks/.work/venv-txkoji010``.  0.10 reads its hub URL from a
koji profile, so the orchestrator points ``HOME`` at a directory holding
``.koji/config.d/bench.conf`` (profile ``bench``).  It has no MultiCall
API: the multicall workload sends ``system.multicall`` through
``Connection.call`` and turns each entry into a ``Build`` as a 0.10 user
would.  ``compat010`` restores two names 0.10 imports that newer Twisted
and Python renamed.  It is not run for the authenticated workload (its login and
query-string sessions are out of this comparison's scope).
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import compat010  # noqa: E402, F401  (first: restores names 0.10 imports)
import measure  # noqa: E402
from twisted.internet import defer, task  # noqa: E402

from txkoji import Connection  # noqa: E402
from txkoji.build import Build  # noqa: E402

PROFILE = "bench"


async def multicall(conn, calls: int) -> list:
    """1000 getBuild calls in one ``system.multicall``, typed as Builds."""
    batch = [{"methodName": "getBuild", "params": [i]} for i in range(calls)]
    entries = await conn.call("system.multicall", batch)
    builds = []
    for entry in entries:
        build = Build.fromDict(entry[0])
        build.connection = conn
        builds.append(build)
    return builds


async def workload(reactor, args) -> None:
    """Warm up, then measure the workload."""
    conn = Connection(PROFILE)
    for index in range(measure.WARMUP_CALLS):
        await conn.getTaskInfo(index)
    with measure.Meter() as meter:
        if args.workload == "seq":
            for index in range(args.calls):
                result = await conn.getTaskInfo(index)
        elif args.workload == "conc":
            results = await defer.gatherResults(
                [conn.getTaskInfo(index) for index in range(args.calls)]
            )
            result = results[-1]
        elif args.workload == "listbuilds":
            result = await conn.listBuilds(measure.PACKAGE_ID)
        else:
            result = await multicall(conn, args.calls)
    size = None
    if args.workload in ("seq", "conc"):
        measure.check(result.id == measure.TASK_ID, "getTaskInfo id")
        measure.check(result.request[1] == 64381, "getTaskInfo request")
    elif args.workload == "listbuilds":
        measure.check(len(result) > 1000 and result[0].epoch is None, "listBuilds")
        size = measure.deep_size(result)
    else:
        measure.check(len(result) == args.calls, "multicall length")
        measure.check(result[-1].extra.archive_bytes > 2**32, "i8")
    record = type(result[0]).__name__ if isinstance(result, list) else None
    calls = 1 if args.workload == "listbuilds" else args.calls
    measure.report(args, meter, calls=calls, result_bytes=size, record_type=record)


def main() -> None:
    """Run one workload and report it."""
    args = measure.arguments(__doc__.splitlines()[0])
    if args.workload == "auth":
        measure.skip(args, "not compared for authenticated calls")
        return
    task.react(lambda reactor: defer.Deferred.fromCoroutine(workload(reactor, args)))


if __name__ == "__main__":
    main()
