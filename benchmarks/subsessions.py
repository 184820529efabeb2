"""Measure logged-in ``getTaskInfo`` throughput over 1, 4 and 16 subsessions.

The fake hub runs in a process of its own (``python -m txkoji.testing
--tls``) and the client logs in by password over TLS, opens
``Connection.session_pool(n)`` and sends ``--calls`` ``getTaskInfo`` calls
at once through the pool, ``--rounds`` times per setting.  Two ways of
sending each subsession's calls:

* ``batched``: txkoji's default order: one request in flight per
  subsession, the calls queued behind it sent together as one multicall;
* ``alone``: one request in flight per subsession, every call alone
  (``session_order.max_batch = 1``): the parallelism comes from the
  subsessions only.

With ``--latency MS`` the hub runs in this process instead and answers
every request MS milliseconds late (without using the CPU meanwhile), as a
real hub's database and network would: the figures then show how far
subsessions overlap waiting, rather than how fast one Python process
serves XML-RPC.

Run: ``.venv/bin/python benchmarks/subsessions.py [--calls 400] [--rounds 5]
[--latency MS]``
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time

from twisted.internet import defer, task

from txkoji import Connection
from txkoji.testing import HubServer, server_tls_options
from txkoji.testing.certs import write_test_pki
from txkoji.testing.dataset import PASSWORDS, load_dataset

SIZES = (1, 4, 16)
MODES = ("batched", "alone")


def start_hub(cert_dir: str) -> tuple[subprocess.Popen, str, str]:
    """Start the fake hub over TLS in a child process; return it, its URL
    and its CA certificate's path."""
    hub = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "txkoji.testing",
            "--tls",
            "--port",
            "0",
            "--cert-dir",
            cert_dir,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert hub.stdout is not None
    url = hub.stdout.readline().split()[-1]
    ca_cert = hub.stdout.readline().split()[-1]
    return hub, url, ca_cert


async def one_round(pool, task_ids: list[int]) -> float:
    """Send every call at once; return the seconds until all answered."""
    start = time.perf_counter()
    tasks = await defer.gatherResults([pool.getTaskInfo(t) for t in task_ids])
    elapsed = time.perf_counter() - start
    assert all(t is not None for t in tasks)
    return elapsed


async def measure(reactor, url: str, ca_cert: str, calls: int, rounds: int) -> None:
    koji = Connection(
        server=url,
        serverca=ca_cert,
        authtype="password",
        user="alice",
        password=PASSWORDS[2],
    )
    await koji.login()
    ids = sorted(t["id"] for t in load_dataset()["tasks"])
    task_ids = [ids[n % len(ids)] for n in range(calls)]
    print(f"{calls} logged-in getTaskInfo calls at once, best/median of {rounds}")
    try:
        for size in SIZES:
            pool = await koji.session_pool(size)
            for mode in MODES:
                for member in pool.members:
                    member.session_order.max_batch = 1 if mode == "alone" else 100
                await one_round(pool, task_ids[: size * 2])  # warm the pool
                sent = sum(m.session_order.requests_sent for m in pool.members)
                times = [await one_round(pool, task_ids) for _ in range(rounds)]
                sent = sum(m.session_order.requests_sent for m in pool.members) - sent
                best, median = min(times), statistics.median(times)
                print(
                    f"{size:2d} subsession(s) {mode:7s}: {calls / best:6.0f} calls/s "
                    f"best, {calls / median:6.0f} median, "
                    f"{sent / rounds:.0f} requests per round"
                )
            await pool.close()
    finally:
        await koji.close()


async def measure_with_latency(
    reactor, cert_dir: str, latency: float, calls: int, rounds: int
) -> None:
    """Measure against an in-process hub that answers ``latency`` seconds
    late."""
    pki = write_test_pki(cert_dir)
    server = HubServer(reactor, tls=server_tls_options(pki.server_cert, pki.server_key))
    await server.start()
    server.hub.faults.add(delay=latency, times=None)
    print(f"hub in this process, every answer {latency * 1000:g} ms late")
    try:
        await measure(reactor, server.url, str(pki.ca_cert), calls, rounds)
    finally:
        await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--latency", type=float, help="milliseconds per answer")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="txkoji-bench-") as cert_dir:
        if options.latency:
            task.react(
                lambda reactor: defer.ensureDeferred(
                    measure_with_latency(
                        reactor,
                        cert_dir,
                        options.latency / 1000,
                        options.calls,
                        options.rounds,
                    )
                )
            )
        hub, url, ca_cert = start_hub(cert_dir)
        try:
            task.react(
                lambda reactor: defer.ensureDeferred(
                    measure(reactor, url, ca_cert, options.calls, options.rounds)
                )
            )
        finally:
            hub.terminate()
            hub.wait()


if __name__ == "__main__":
    main()
