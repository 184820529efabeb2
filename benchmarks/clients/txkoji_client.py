"""Benchmark client: txkoji from this work tree.

Runs in the project's ``.venv`` and imports ``txkoji`` from the checkout
(not from any installed copy).  Concurrent workloads fire every call at
once and leave bounding to the connection (``max_concurrency``).
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

import measure  # noqa: E402
from twisted.internet import defer, task  # noqa: E402

import txkoji  # noqa: E402


def connect(args) -> txkoji.Connection:
    """A connection for the workload: plain HTTP, or HTTPS with the client
    certificate for the authenticated one."""
    if args.workload == "auth":
        return txkoji.Connection(
            server=args.tls_url,
            cert=os.path.join(args.certs, "client.pem"),
            serverca=os.path.join(args.certs, "ca.crt"),
            authtype="ssl",
        )
    return txkoji.Connection(server=args.url)


async def measured(conn, args) -> object:
    """The measured part of each workload; returns the last result."""
    calls = args.calls
    if args.workload == "seq":
        for index in range(calls):
            result = await conn.getTaskInfo(index, request=True)
        return result
    if args.workload == "conc":
        results = await defer.gatherResults(
            [conn.getTaskInfo(index, request=True) for index in range(calls)]
        )
        return results
    if args.workload == "auth":
        return await defer.gatherResults([conn.getLoggedInUser() for _ in range(calls)])
    if args.workload == "listbuilds":
        return await conn.listBuilds(packageID=measure.PACKAGE_ID)
    batch = conn.MultiCall()
    for index in range(calls):
        batch.getBuild(index)
    return list(await batch())


def check(args, result) -> None:
    """Check that txkoji decoded the canned answers."""
    if args.workload == "seq":
        result = [result]
    if args.workload in ("seq", "conc"):
        for one in result:
            measure.check(one["id"] == measure.TASK_ID, "getTaskInfo id")
            measure.check(one["request"][1] == 64381, "getTaskInfo request")
    elif args.workload == "auth":
        measure.check(all(one["name"] == "packager" for one in result), "user")
    elif args.workload == "listbuilds":
        measure.check(len(result) > 1000 and result[0]["epoch"] is None, "builds")
    else:
        measure.check(len(result) == args.calls, "multicall length")
        measure.check(result[-1]["extra"]["archive_bytes"] > 2**32, "i8")


async def workload(reactor, args) -> None:
    """Connect, log in if needed, warm up, then measure."""
    conn = connect(args)
    if args.workload == "auth":
        await conn.login()
        warm = conn.getLoggedInUser
    else:
        warm = conn.getTaskInfo
    for index in range(measure.WARMUP_CALLS):
        await (warm() if args.workload == "auth" else warm(index, request=True))
    with measure.Meter() as meter:
        result = await measured(conn, args)
    check(args, result)
    size = None
    if args.workload == "listbuilds":
        size = measure.deep_size(result)
    record = None
    if isinstance(result, list) and result:
        record = type(result[0]).__name__
    calls = 1 if args.workload == "listbuilds" else args.calls
    measure.report(args, meter, calls=calls, result_bytes=size, record_type=record)
    await conn.close()


def main() -> None:
    """Run one workload and report it."""
    args = measure.arguments(__doc__.splitlines()[0])
    if args.workload == "auth" and "login" not in vars(txkoji.Connection):
        measure.skip(args, "txkoji has no Connection.login yet (issue 3)")
        return
    task.react(lambda reactor: defer.Deferred.fromCoroutine(workload(reactor, args)))


if __name__ == "__main__":
    main()
