"""Benchmark client: the official koji library's ``ClientSession``.

Runs in ``benchmarks/.work/venv-koji``.  It is synchronous, so the
concurrent workloads use a thread pool (``--threads``) with one session per
thread, as a koji user would.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import koji  # noqa: E402
import measure  # noqa: E402


def new_session(url: str) -> koji.ClientSession:
    """A session with koji's defaults, no retries (the hub never fails)."""
    return koji.ClientSession(url, {"max_retries": 0})


def logged_in(args) -> koji.ClientSession:
    """A session logged in by client certificate over HTTPS."""
    session = new_session(args.tls_url)
    session.ssl_login(
        cert=os.path.join(args.certs, "client.pem"),
        serverca=os.path.join(args.certs, "ca.crt"),
    )
    return session


def main() -> None:
    """Run one workload and report it."""
    args = measure.arguments(__doc__.splitlines()[0])
    workload = args.workload
    if workload in ("seq", "listbuilds", "multicall"):
        session = new_session(args.url)
        for index in range(measure.WARMUP_CALLS):
            session.getTaskInfo(index, request=True)
        with measure.Meter() as meter:
            if workload == "seq":
                for index in range(args.calls):
                    result = session.getTaskInfo(index, request=True)
            elif workload == "listbuilds":
                result = session.listBuilds(packageID=measure.PACKAGE_ID)
            else:
                with session.multicall() as batch:
                    handles = [batch.getBuild(index) for index in range(args.calls)]
                result = [handle.result for handle in handles]
        calls = 1 if workload == "listbuilds" else args.calls
        check_result(workload, result, args.calls)
        size = measure.deep_size(result) if workload == "listbuilds" else None
        record = type(result[0]).__name__ if isinstance(result, list) else None
        measure.report(args, meter, calls=calls, result_bytes=size, record_type=record)
        return
    threads = args.threads or 8
    if workload == "auth":
        sessions = [logged_in(args) for _ in range(threads)]
        method = "getLoggedInUser"
    else:
        sessions = [new_session(args.url) for _ in range(threads)]
        method = "getTaskInfo"
    for session in sessions:
        for index in range(2):
            call(session, method, index)
    results: list = [None] * args.calls

    def one(index: int) -> None:
        results[index] = call(local.session, method, index)

    spare: queue.Queue = queue.Queue()
    for session in sessions:
        spare.put(session)
    local = threading.local()
    started = threading.Barrier(threads + 1)

    def adopt() -> None:
        local.session = spare.get_nowait()
        started.wait()

    with ThreadPoolExecutor(threads, initializer=adopt) as pool:
        for _ in range(threads):
            pool.submit(lambda: None)
        started.wait()
        with measure.Meter() as meter:
            list(pool.map(one, range(args.calls)))
    for result in results:
        check_result(workload, result, 1)
    measure.report(args, meter, calls=args.calls)


def call(session, method: str, index: int):
    """One call of the concurrent workloads."""
    if method == "getTaskInfo":
        return session.getTaskInfo(index, request=True)
    return session.getLoggedInUser()


def check_result(workload: str, result, calls: int) -> None:
    """Check that the session decoded the canned answer."""
    if workload == "auth":
        measure.check(result["name"] == "packager", "getLoggedInUser")
    elif workload in ("seq", "conc"):
        measure.check(result["id"] == measure.TASK_ID, "getTaskInfo id")
        measure.check(result["request"][1] == 64381, "getTaskInfo request")
    elif workload == "listbuilds":
        measure.check(len(result) > 1000 and result[0]["epoch"] is None, "listBuilds")
    else:
        measure.check(len(result) == calls, "multicall length")
        measure.check(result[-1]["extra"]["archive_bytes"] > 2**32, "i8")


if __name__ == "__main__":
    main()
