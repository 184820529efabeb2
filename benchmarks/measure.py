"""Measuring one client workload inside its own process.

Standard library only: the client scripts run in three different
virtualenvs (the project's, koji's and txkoji 0.10's) and all import this.

A client script parses :func:`arguments`, prepares (imports, connects,
warms up, logs in), then wraps exactly the measured work in a :class:`Meter`
and calls :func:`report`, which prints one ``RESULT {json}`` line for the
orchestrator (``run.py``).
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import time

#: The workloads every client script understands.
WORKLOADS = ("seq", "conc", "listbuilds", "multicall", "auth")

#: Calls per workload (``listbuilds`` is one big call; ``multicall`` one
#: request of MULTICALL_SIZE calls, counted as that many calls).
CALLS = {"seq": 2000, "conc": 2000, "listbuilds": 1, "multicall": 1000, "auth": 200}

#: Identifiers the hub's canned answers carry, for result checks.
TASK_ID = 81234567
PACKAGE_ID = 9876

#: Small calls made before measuring: imports, connections and caches warm.
WARMUP_CALLS = 20


def arguments(description: str) -> argparse.Namespace:
    """Parse the command line shared by every client script."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("workload", choices=WORKLOADS)
    parser.add_argument("--url", required=True, help="plain HTTP hub URL")
    parser.add_argument("--tls-url", help="HTTPS hub URL (auth workload)")
    parser.add_argument("--certs", help="directory of ca.crt and client.pem")
    parser.add_argument("--threads", type=int, default=0, help="thread pool size")
    parser.add_argument("--calls", type=int, help="override the call count")
    args = parser.parse_args()
    if args.calls is None:
        args.calls = CALLS[args.workload]
    return args


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) of this process."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


class Meter:
    """Measure CPU (user+sys, all threads), wall time and memory of the
    ``with`` block."""

    def __enter__(self) -> Meter:
        gc.collect()
        self.peak_reset = _reset_peak_rss()
        self.rss_before_kb = _status_kb("VmRSS:")
        self._usage = resource.getrusage(resource.RUSAGE_SELF)
        self._wall = time.perf_counter()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.wall_s = time.perf_counter() - self._wall
        usage = resource.getrusage(resource.RUSAGE_SELF)
        self.user_s = usage.ru_utime - self._usage.ru_utime
        self.sys_s = usage.ru_stime - self._usage.ru_stime
        self.cpu_s = self.user_s + self.sys_s
        self.maxrss_kb = usage.ru_maxrss
        peak = _status_kb("VmHWM:") if self.peak_reset else None
        self.growth_kb = (
            peak - self.rss_before_kb
            if peak is not None and self.rss_before_kb is not None
            else None
        )


def deep_size(obj: object) -> int:
    """Bytes held by ``obj`` and everything reachable through containers
    and instance ``__dict__`` (each object counted once)."""
    seen: set[int] = set()
    total = 0
    stack = [obj]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        total += sys.getsizeof(item)
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
        attrs = getattr(item, "__dict__", None)
        if isinstance(attrs, dict) and not isinstance(item, type):
            # Only plain data: a record's ``connection`` is not its size.
            stack.extend(
                value
                for value in attrs.values()
                if isinstance(value, (dict, list, tuple, str, int, float))
            )
    return total


def report(
    args: argparse.Namespace,
    meter: Meter,
    *,
    calls: int,
    result_bytes: int | None = None,
    record_type: str | None = None,
    note: str = "",
) -> None:
    """Print the ``RESULT`` line the orchestrator reads."""
    figures = {
        "workload": args.workload,
        "threads": args.threads,
        "calls": calls,
        "cpu_s": meter.cpu_s,
        "user_s": meter.user_s,
        "sys_s": meter.sys_s,
        "wall_s": meter.wall_s,
        "cpu_us_per_call": meter.cpu_s * 1e6 / calls,
        "calls_per_s": calls / meter.wall_s if meter.wall_s else None,
        "maxrss_kb": meter.maxrss_kb,
        "growth_kb": meter.growth_kb,
        "result_bytes": result_bytes,
        "record_type": record_type,
        "note": note,
    }
    print("RESULT " + json.dumps(figures), flush=True)


def skip(args: argparse.Namespace, reason: str) -> None:
    """Print a ``SKIP`` line: this client cannot run this workload."""
    print("SKIP " + json.dumps({"workload": args.workload, "reason": reason}))


def check(condition: bool, message: str) -> None:
    """Fail the run loudly when a client decoded something wrong."""
    if not condition:
        raise SystemExit(f"result check failed: {message}")
