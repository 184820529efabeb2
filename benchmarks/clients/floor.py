"""Benchmark floor: raw keep-alive HTTP, pre-built request bodies, no XML.

What any Twisted client pays before decoding a byte.  ``--http`` picks:

- ``agent``: Twisted's ``Agent`` over a persistent ``HTTPConnectionPool``,
  bodies read with ``readBody``;
- ``agent-cached``: the same, its endpoints built once per host instead of
  once per request (Agent's default re-encodes the host name every time);
- ``treq``: treq's ``HTTPClient`` over such a pool, used plainly
  (``post`` then ``treq.content``);
- ``treq-tuned``: treq with what it lets a caller switch off: no cookie
  jar work, no redirect agent, unbuffered responses, a one-write body
  producer, cached endpoints.

Concurrent work keeps at most ``CONCURRENCY`` requests in flight (and as
many pooled connections).
"""

from __future__ import annotations

import os
import sys
import xmlrpc.client
from http.cookiejar import CookieJar

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import measure  # noqa: E402
import treq  # noqa: E402
from twisted.internet import defer, task  # noqa: E402
from twisted.internet.endpoints import HostnameEndpoint  # noqa: E402
from twisted.web.client import Agent, HTTPConnectionPool, readBody  # noqa: E402
from twisted.web.http_headers import Headers  # noqa: E402
from twisted.web.iweb import IAgentEndpointFactory, IBodyProducer  # noqa: E402
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


class NoCookies(CookieJar):
    """A cookie jar that never looks at a request or response."""

    def add_cookie_header(self, request) -> None:
        """Add nothing."""

    def extract_cookies(self, response, request) -> None:
        """Keep nothing."""


@implementer(IAgentEndpointFactory)
class CachedEndpoints:
    """Plain-HTTP endpoints built once per (host, port)."""

    def __init__(self, reactor) -> None:
        self.reactor = reactor
        self.endpoints: dict = {}

    def endpointForURI(self, uri):
        key = (uri.host, uri.port)
        endpoint = self.endpoints.get(key)
        if endpoint is None:
            endpoint = HostnameEndpoint(self.reactor, uri.host.decode(), uri.port)
            self.endpoints[key] = endpoint
        return endpoint


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
    if flavour in ("agent-cached", "treq-tuned"):
        agent = Agent.usingEndpointFactory(reactor, CachedEndpoints(reactor), pool=pool)
    else:
        agent = Agent(reactor, pool=pool)
    headers = {b"Content-Type": [b"text/xml"], b"User-Agent": [b"floor/1"]}
    burl = url.encode()
    if flavour.startswith("agent"):

        def post(body: bytes) -> defer.Deferred:
            d = agent.request(b"POST", burl, Headers(headers), BytesProducer(body))
            d.addCallback(readBody)
            return d

    elif flavour == "treq":
        client = treq.client.HTTPClient(agent)

        def post(body: bytes) -> defer.Deferred:
            d = client.post(url, data=body, headers=headers)
            d.addCallback(treq.content)
            return d

    elif flavour == "treq-tuned":
        client = treq.client.HTTPClient(
            agent, cookiejar=NoCookies(), data_to_body_producer=BytesProducer
        )

        def post(body: bytes) -> defer.Deferred:
            d = client.request(
                "POST",
                url,
                data=body,
                headers=headers,
                allow_redirects=False,
                unbuffered=True,
            )
            d.addCallback(readBody)
            return d

    else:
        raise SystemExit(f"unknown --http {flavour}")
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
