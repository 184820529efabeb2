"""Benchmark floor: raw keep-alive HTTP, pre-built request bodies, no XML.

What any Twisted client pays before decoding a byte: ``--http agent`` is
Twisted's ``Agent`` over a persistent ``HTTPConnectionPool``; ``--http
treq`` is treq's ``HTTPClient`` over the same kind of pool, reading bodies
with ``response.content()``.  Concurrent work keeps at most
``CONCURRENCY`` requests in flight (and as many pooled connections).
"""

from __future__ import annotations

import os
import sys
import xmlrpc.client

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import measure  # noqa: E402
import treq  # noqa: E402
from twisted.internet import defer, task  # noqa: E402
from twisted.web.client import Agent, HTTPConnectionPool, readBody  # noqa: E402
from twisted.web.http_headers import Headers  # noqa: E402
from twisted.web.iweb import IBodyProducer  # noqa: E402
from zope.interface import implementer  # noqa: E402

CONCURRENCY = 32


@implementer(IBodyProducer)
class BytesProducer:
    """A request body written in one go."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.length = len(body)

    def startProducing(self, consumer):
        consumer.write(self.body)
        return defer.succeed(None)

    def pauseProducing(self) -> None:
        """Nothing to pause."""

    def resumeProducing(self) -> None:
        """Nothing to resume."""

    def stopProducing(self) -> None:
        """Nothing to stop."""


def request_body(workload: str, calls: int) -> bytes:
    """The XML-RPC request each call of ``workload`` posts."""
    if workload == "listbuilds":
        params = ({"packageID": measure.PACKAGE_ID, "__starstar": True},)
        return xmlrpc.client.dumps(params, "listBuilds").encode()
    if workload == "multicall":
        batch = [{"methodName": "getBuild", "params": [i]} for i in range(calls)]
        return xmlrpc.client.dumps((batch,), "system.multicall").encode()
    params = (1, {"request": True, "__starstar": True})
    return xmlrpc.client.dumps(params, "getTaskInfo").encode()


def poster(reactor, flavour: str, url: str):
    """Return ``post(body) -> Deferred(bytes)`` for the chosen HTTP layer."""
    pool = HTTPConnectionPool(reactor, persistent=True)
    pool.maxPersistentPerHost = CONCURRENCY
    agent = Agent(reactor, pool=pool)
    headers = {b"Content-Type": [b"text/xml"], b"User-Agent": [b"floor/1"]}
    burl = url.encode()
    if flavour == "agent":

        def post(body: bytes) -> defer.Deferred:
            d = agent.request(b"POST", burl, Headers(headers), BytesProducer(body))
            d.addCallback(readBody)
            return d

    else:
        client = treq.client.HTTPClient(agent)

        def post(body: bytes) -> defer.Deferred:
            d = client.post(url, data=body, headers=headers)
            d.addCallback(treq.content)
            return d

    return post, pool


async def workload(reactor, args, flavour: str) -> None:
    """Warm up, then measure the workload."""
    post, pool = poster(reactor, flavour, args.url)
    body = request_body(args.workload, args.calls)
    warm = request_body("seq", 1)
    for _ in range(measure.WARMUP_CALLS):
        await post(warm)
    limit = defer.DeferredSemaphore(CONCURRENCY)
    with measure.Meter() as meter:
        if args.workload == "seq":
            for _ in range(args.calls):
                answer = await post(body)
        elif args.workload == "conc":
            answers = await defer.gatherResults(
                [limit.run(post, body) for _ in range(args.calls)]
            )
            answer = answers[-1]
        else:
            answer = await post(body)
    measure.check(answer.startswith(b"<?xml") and len(answer) > 100, "body")
    calls = 1 if args.workload == "listbuilds" else args.calls
    measure.report(args, meter, calls=calls, result_bytes=None)
    await pool.closeCachedConnections()


def main() -> None:
    """Run one workload with ``--http agent`` or ``--http treq``."""
    flavour = "agent"
    if "--http" in sys.argv:
        at = sys.argv.index("--http")
        flavour = sys.argv[at + 1]
        del sys.argv[at : at + 2]
    args = measure.arguments(__doc__.splitlines()[0])
    if args.workload == "auth":
        measure.skip(args, "the floor does not log in")
        return
    task.react(
        lambda reactor: defer.Deferred.fromCoroutine(workload(reactor, args, flavour))
    )


if __name__ == "__main__":
    main()
