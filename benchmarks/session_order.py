"""Measure 200 concurrent authenticated calls against the fake hub over TLS.

Three ways of sending them on one logged-in session:

* ``batched``: txkoji's order: one request in flight, the calls that
  queue up behind it sent together as one multicall;
* ``serial``: one request in flight, every call alone (``max_batch=1``);
* ``unordered``: every call numbered and sent at once, up to the
  connection's ``max_concurrency`` in parallel (what a client without an
  order does): fast, but writes fail with SequenceError.

Run: ``.venv/bin/python benchmarks/session_order.py [--calls 200] [--rounds 5]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from functools import partial

from twisted.internet import defer, task

from txkoji import Connection
from txkoji.codec import ResponseDecoder, encode_call, pack_params
from txkoji.limit import ConcurrencyLimit
from txkoji.results import result_type
from txkoji.testing import HubServer, server_tls_options
from txkoji.testing.certs import write_test_pki


def _call_plan(count: int, prefix: str) -> list[tuple[str, tuple, dict]]:
    plan = []
    for n in range(count):
        if n % 2 == 0:
            plan.append(("createTag", (f"{prefix}-tag-{n}",), {}))
        else:
            plan.append(("packageListAdd", ("f40", f"{prefix}-p{n}"), {"owner": 2}))
    return plan


def _unordered(koji: Connection, plan) -> list[defer.Deferred]:
    """Number every call now and post them all at once (no order), up to
    the profile's ``max_concurrency`` in flight, through the connection's
    public transport."""
    session = koji.session
    limit = ConcurrencyLimit(koji.config["max_concurrency"])
    calls = []
    for method, args, kwargs in plan:
        body = encode_call(method, pack_params(args, kwargs))
        url, headers = session.credentials(koji.url, session.next_callnum())
        calls.append(limit.run(partial(_post, koji, method, body, url, headers)))
    return calls


def _post(koji: Connection, method: str, body: bytes, url: str, headers: dict):
    rtype = result_type(method)
    decoder = ResponseDecoder(method, rtype.record_class, rtype.shape)
    return koji.transport.post(url, body, decoder, method=method, headers=headers)


async def _round(koji: Connection, mode: str, plan) -> tuple[float, int, int]:
    sent_before = koji.session_order.requests_sent
    koji.session_order.max_batch = 1 if mode == "serial" else 100
    start = time.perf_counter()
    if mode == "unordered":
        calls = _unordered(koji, plan)
    else:
        calls = [koji.call(m, *a, **k) for m, a, k in plan]
    results = await defer.DeferredList(calls, consumeErrors=True)
    elapsed = time.perf_counter() - start
    failures = sum(1 for ok, _ in results if not ok)
    requests = (
        len(plan) if mode == "unordered" else koji.session_order.requests_sent
    ) - (0 if mode == "unordered" else sent_before)
    return elapsed, failures, requests


async def main(reactor, calls: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="txkoji-bench-") as directory:
        await _measure(reactor, write_test_pki(directory), calls, rounds)


async def _measure(reactor, pki, calls: int, rounds: int) -> None:
    tls = server_tls_options(pki.server_cert, pki.server_key, pki.ca_cert)
    server = HubServer(reactor, tls=tls)
    await server.start()
    url = f"https://localhost:{server.port}/kojihub"
    try:
        for mode in ("batched", "serial", "unordered"):
            times, failures, requests = [], [], 0
            for round_no in range(rounds):
                koji = Connection(
                    server=url,
                    serverca=str(pki.ca_cert),
                    cert=str(pki.client_pem),
                    authtype="ssl",
                )
                await koji.login()
                plan = _call_plan(calls, f"{mode}{round_no}")
                elapsed, failed, requests = await _round(koji, mode, plan)
                times.append(elapsed)
                failures.append(failed)
                await koji.close()
            best = min(times)
            print(
                f"{mode:10s} {calls} calls: median {statistics.median(times):.3f} s, "
                f"best {best:.3f} s ({calls / best:.0f} calls/s), "
                f"{requests} requests, failures per round {failures}"
            )
    finally:
        await server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    task.react(
        lambda reactor: defer.ensureDeferred(
            main(reactor, options.calls, options.rounds)
        )
    )
