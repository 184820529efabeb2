"""Where txkoji's per-call CPU goes, layer by layer, in one process.

::

    .venv/bin/python benchmarks/layers.py [--calls 1000] [--rounds 3]

Starts the canned-answer hub, then times sequential ``getTaskInfo`` calls
through successively more of the stack (rounds interleaved; the best round
of each is shown, the least disturbed by other load):

- ``agent-cached``: raw Agent + pool, cached endpoint, no XML (the floor);
- ``treq-tuned``: treq ``HTTPClient.request`` as txkoji's transport calls it;
- ``transport, null decoder``: ``HubTransport.post`` of a pre-encoded body,
  the answer fed to a decoder that drops it;
- ``transport + decoder``: the same with the real ``ResponseDecoder``;
- ``Connection.getTaskInfo``: the whole public call.

Then the codec alone on the 2.7 KB answer: ``ResponseDecoder``, stdlib
``xmlrpc.client.loads``, a bare C-parser parse (``ElementTree.fromstring``),
and ``pack_params`` + ``encode_call``.  Differences between lines are the
cost of each layer.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
import xmlrpc.client

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "clients"))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import floor  # noqa: E402
import payloads  # noqa: E402
from twisted.internet import defer  # noqa: E402

import txkoji  # noqa: E402
from txkoji.codec import ResponseDecoder, encode_call, pack_params  # noqa: E402
from txkoji.results import result_type  # noqa: E402


class NullDecoder:
    """Takes the answer and keeps nothing."""

    def feed(self, data: bytes) -> None:
        """Drop ``data``."""

    def close(self) -> None:
        """Nothing decoded."""


def cpu() -> float:
    """User+sys CPU seconds of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def layer_calls(reactor, url: str) -> dict:
    """Name -> ``call(index) -> Deferred`` for each layer."""
    conn = txkoji.Connection(server=url)
    transport = conn.transport
    rtype = result_type("getTaskInfo")
    body = encode_call("getTaskInfo", pack_params((1,), {"request": True}))
    agent_post, _ = floor.poster(reactor, "agent-cached", url)
    treq_post, _ = floor.poster(reactor, "treq-tuned", url)
    return {
        "agent-cached (no XML)": lambda i: agent_post(body),
        "treq-tuned (no XML)": lambda i: treq_post(body),
        "transport, null decoder": lambda i: transport.post(
            url, body, NullDecoder(), method="getTaskInfo"
        ),
        "transport + ResponseDecoder": lambda i: transport.post(
            url,
            body,
            ResponseDecoder("getTaskInfo", rtype.record_class, rtype.shape),
            method="getTaskInfo",
        ),
        "Connection.getTaskInfo": lambda i: conn.getTaskInfo(i, request=True),
    }


async def measure_layers(reactor, url: str, calls: int, rounds: int) -> dict:
    """Best CPU us/call of each layer over ``rounds`` interleaved rounds."""
    layers = layer_calls(reactor, url)
    best: dict[str, float] = {}
    for call in layers.values():
        for index in range(20):
            await call(index)
    for _ in range(rounds):
        for name, call in layers.items():
            start = cpu()
            for index in range(calls):
                await call(index)
            used = (cpu() - start) * 1e6 / calls
            best[name] = min(best.get(name, used), used)
    return best


def codec_costs(repeat: int = 2000) -> dict:
    """Best-of-5 CPU us of each codec operation on the getTaskInfo answer."""
    answer = payloads.response(payloads.task())
    rtype = result_type("getTaskInfo")

    def decoder():
        decoding = ResponseDecoder("getTaskInfo", rtype.record_class, rtype.shape)
        decoding.feed(answer)
        return decoding.close()

    operations = {
        "ResponseDecoder feed+close": decoder,
        "xmlrpc.client.loads": lambda: xmlrpc.client.loads(answer),
        "ElementTree.fromstring (C parse only)": lambda: ElementTree.fromstring(answer),
        "pack_params + encode_call": lambda: encode_call(
            "getTaskInfo", pack_params((1,), {"request": True})
        ),
    }
    costs = {}
    for name, operation in operations.items():
        runs = []
        for _ in range(5):
            start = time.process_time()
            for _ in range(repeat):
                operation()
            runs.append((time.process_time() - start) * 1e6 / repeat)
        costs[name] = min(runs)
    return costs


def main() -> None:
    """Start the hub, measure, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    hub = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "hub.py")], stdout=subprocess.PIPE
    )
    try:
        url = f"http://127.0.0.1:{json.loads(hub.stdout.readline())['http']}/kojihub"
        found: list[dict] = []

        def run(reactor):
            d = defer.Deferred.fromCoroutine(
                measure_layers(reactor, url, args.calls, args.rounds)
            )
            d.addCallback(found.append)
            return d

        run_reactor(run)
    finally:
        hub.terminate()
        hub.wait(10)
    print(f"sequential getTaskInfo, best of {args.rounds} x {args.calls} calls:")
    previous = None
    for name, used in found[0].items():
        step = "" if previous is None else f"  (+{used - previous:.0f})"
        print(f"  {used:7.0f} us CPU/call  {name}{step}")
        previous = used
    print("codec alone on the 2.7 KB answer (best of 5):")
    for name, used in codec_costs().items():
        print(f"  {used:7.1f} us  {name}")


def run_reactor(run) -> None:
    """Run ``run(reactor)`` to completion and return (no sys.exit)."""
    from twisted.internet import reactor

    failures = []

    def start():
        d = run(reactor)
        d.addErrback(failures.append)
        d.addBoth(lambda _: reactor.stop())

    reactor.callWhenRunning(start)
    reactor.run()
    if failures:
        failures[0].raiseException()


if __name__ == "__main__":
    main()
