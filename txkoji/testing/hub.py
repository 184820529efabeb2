"""The fake hub: a ``twisted.web`` resource that answers like Koji's.

Serve it with :class:`txkoji.testing.server.HubServer`, put it in your own
``Site``, or wrap it in ``treq.testing.StubTreq`` for in-memory tests.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from typing import Any

from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request

from txkoji.codec import decode_call, encode_fault, encode_response
from txkoji.exceptions import GenericError, KojiFault, KojiProtocolError
from txkoji.testing.dispatch import (
    DEFAULT_METHODS,
    CallContext,
    MethodTable,
    call_method,
    fault_of,
)
from txkoji.testing.faults import NO_ANSWER, FaultInjector, FaultRule
from txkoji.testing.files import HubFiles
from txkoji.testing.login_gate import LOGIN_PATH, LoginGate
from txkoji.testing.login_rules import LoginRules
from txkoji.testing.session_store import SessionStore
from txkoji.testing.simulator import HubSimulator
from txkoji.testing.state import HubState
from txkoji.testing.uploads import UPLOAD_METHOD, UploadEndpoint

#: The version a fake hub reports, in ``Koji-Version`` and getKojiVersion.
KOJI_VERSION = "1.35.3"
#: The default limit on a request body (the hub's MaxRequestLength).
MAX_REQUEST_LENGTH = 4 * 1024 * 1024

_STATUS_PHRASES = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
_MALFORMED = b"<?xml version='1.0'?>\n<methodResponse><params><param><value><struct"


class FakeHub(Resource):
    """A Koji hub over in-memory data.

    Only POST is allowed (other verbs get 405 with ``Allow: POST``).  A body
    that is not XML-RPC gets 400 ``text/plain``; every answer to a call,
    faults included, is HTTP 200 ``text/xml`` with ``Koji-Version``.

    :ivar state: the :class:`~txkoji.testing.state.HubState` served.
    :ivar methods: this hub's :class:`~txkoji.testing.dispatch.MethodTable`
        (a copy of the default table; register extra methods on it).
    :ivar faults: the :class:`~txkoji.testing.faults.FaultInjector`.
    :ivar max_request_length: the largest body accepted, in bytes.
    :ivar calls: the names of the methods called so far, in order
        (multicall sub-calls included), for tests to assert on.
    :ivar sessions: the :class:`~txkoji.testing.session_store.SessionStore`.
    :ivar login_gate: the :class:`~txkoji.testing.login_gate.LoginGate` in front
        of ``/kojihub/ssllogin`` (client certificates; set one with a
        keytab for GSSAPI).
    :ivar login_rules: the :class:`~txkoji.testing.login_rules.LoginRules`:
        password logins, proxies.
    :ivar files: the :class:`~txkoji.testing.files.HubFiles` on disk.
    :ivar uploads: the raw upload endpoint
        (:class:`~txkoji.testing.uploads.UploadEndpoint`; a POST with
        ``Content-Type: application/octet-stream`` is an upload).
    :ivar simulator: the :class:`~txkoji.testing.simulator.HubSimulator`
        moving this hub's data, once :meth:`simulate` made one; else None.
    """

    isLeaf = True
    log = Logger()

    def __init__(
        self,
        reactor: IReactorTime | None = None,
        dataset: Mapping[str, Any] | None = None,
        methods: MethodTable | None = None,
        max_request_length: int = MAX_REQUEST_LENGTH,
        topdir: str | None = None,
    ) -> None:
        """:param reactor: the time source for delays and "now"; the global
            reactor by default.
        :param dataset: the data to serve (deep-copied); the bundled data
            set by default.
        :param methods: the method table to copy; the default table when
            None.
        :param max_request_length: MaxRequestLength in bytes.
        :param topdir: the directory of the hub's files; a temporary one
            by default (see :class:`~txkoji.testing.files.HubFiles`).
        """
        # Twisted's Resource is unannotated.
        super().__init__()  # type: ignore[no-untyped-call]
        if reactor is None:
            from twisted.internet import reactor as global_reactor

            reactor = global_reactor
        self.clock = reactor
        self.state = HubState(reactor, dataset)
        self.methods = (methods or DEFAULT_METHODS).copy()
        self.faults = FaultInjector()
        self.max_request_length = max_request_length
        self.calls: list[str] = []
        self.sessions = SessionStore(reactor)
        self.login_gate = LoginGate()
        self.login_rules = LoginRules()
        self.files = HubFiles(self.state, topdir)
        self.uploads = UploadEndpoint(self, self.state)
        self._delayed: set[IDelayedCall] = set()
        self.simulator: HubSimulator | None = None

    def simulate(
        self,
        seed: int = 0,
        speed: float = 1.0,
        activity: float | None = None,
        rate: float | None = None,
    ) -> HubSimulator:
        """Make this hub's data move on its clock: create its
        ``simulator`` (see :class:`~txkoji.testing.simulator.HubSimulator`
        for the parameters) and return it.  Its ``start()`` brings the
        hub to life (the data's builds in flight carry on; with
        ``activity``, random builds begin); call its ``stop()`` when done
        (:class:`~txkoji.testing.server.HubServer` does both).

        :raises GenericError: when the hub already simulates.
        """
        if self.simulator is not None:
            raise GenericError("this hub already has a simulator")
        self.simulator = HubSimulator(
            self.state, seed=seed, speed=speed, activity=activity, rate=rate
        )
        return self.simulator

    def render(self, request: Request) -> Any:
        """Refuse every verb but POST with 405 and ``Allow: POST``."""
        if request.method != b"POST":
            request.setResponseCode(405)
            request.setHeader(b"Allow", b"POST")
            request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
            return b"Method Not Allowed\n"
        return self.render_POST(request)

    def render_POST(self, request: Request) -> Any:
        """Answer one XML-RPC call or raw upload (see the class docs)."""
        if request.getHeader(b"content-type") == b"application/octet-stream":
            self._upload(request)
            return NOT_DONE_YET
        if request.postpath == LOGIN_PATH:
            refusal = self.login_gate.admit(request)
            if refusal is not None:
                return refusal
        # twisted.web reads the request body before rendering.
        assert request.content is not None
        body = request.content.read()
        if len(body) > self.max_request_length:
            self._write_fault(request, 1000, "Request too long")
            return NOT_DONE_YET
        try:
            if not body:
                raise KojiProtocolError("empty request body")
            method, params = decode_call(body)
        except KojiProtocolError as err:
            request.setResponseCode(400)
            request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
            return f"Invalid request: {err}".encode()
        rule = self.faults.take(method)
        if rule is not None and rule.delay > 0:
            self._answer_later(request, method, params, rule)
        else:
            self._answer(request, method, params, rule)
        return NOT_DONE_YET

    def _answer_later(
        self, request: Request, method: str, params: list[Any], rule: FaultRule
    ) -> None:
        def fire() -> None:
            self._delayed.discard(delayed)
            self._answer(request, method, params, rule)

        def gone(reason: Failure) -> None:
            if delayed.active():
                delayed.cancel()
            self._delayed.discard(delayed)

        delayed = self.clock.callLater(rule.delay, fire)
        self._delayed.add(delayed)
        request.notifyFinish().addErrback(gone)

    def _upload(self, request: Request) -> None:
        rule = self.faults.take(UPLOAD_METHOD)
        if rule is not None and (
            rule.http_status is not None or rule.offline or rule.fault is not None
        ):
            self._answer(request, UPLOAD_METHOD, [], rule)
            return
        try:
            target, params = self.uploads.open(request)
        except Exception as err:
            self._write_fault(request, *fault_of(self._logged(err, UPLOAD_METHOD)))
            return
        content: Any = request.content
        chunk = content.read()

        def finish() -> None:
            self._delayed.discard(delayed)
            try:
                if rule is not None and rule.drop:
                    self.uploads.write_partial(target, params, chunk)
                    transport: Any = request.transport
                    transport.unregisterProducer()
                    transport.loseConnection()
                    return
                body = encode_response(self.uploads.write(target, params, chunk))
                if rule is not None and rule.malformed:
                    body = _MALFORMED
            except Exception as err:
                body = encode_fault(*fault_of(self._logged(err, UPLOAD_METHOD)))
            finally:
                self.files.unlock(target)
            self._write_xml(request, body)

        def gone(reason: Failure) -> None:
            if delayed is not None and delayed.active():
                delayed.cancel()
                self._delayed.discard(delayed)
                self.files.unlock(target)

        delayed: IDelayedCall | None = None
        if rule is None or rule.delay <= 0:
            finish()
            return
        delayed = self.clock.callLater(rule.delay, finish)
        self._delayed.add(delayed)
        request.notifyFinish().addErrback(gone)

    def _answer(
        self,
        request: Request,
        method: str,
        params: list[Any],
        rule: FaultRule | None,
    ) -> None:
        if rule is not None and rule.http_status is not None:
            self._write_http_error(request, rule.http_status)
        elif rule is not None and rule.offline:
            self._write_fault(request, 1014, "server is offline")
        elif rule is not None and rule.fault is not None:
            self._write_fault(request, *rule.fault)
        elif rule is not None and rule.raw_answer is not None:
            self._write_xml(request, rule.raw_answer)
        elif rule is not None and rule.answer is not NO_ANSWER:
            self._write_xml(request, encode_response(rule.answer))
        else:
            body = self.call(method, params, request)
            if rule is not None and rule.malformed:
                body = _MALFORMED
            if rule is not None and rule.drop:
                self._write_truncated(request, body)
            else:
                self._write_xml(request, body)

    def call(
        self, method: str, params: list[Any], request: Request | None = None
    ) -> bytes:
        """Run one call and return the encoded XML-RPC answer (a success or
        a fault), as the body of an HTTP 200 reply."""
        ctx = CallContext(self, self.state, request, method)
        try:
            self.sessions.begin(ctx)
            value = self.run(ctx, method, params)
            self.sessions.end(ctx)
            return encode_response(value)
        except Exception as err:
            return encode_fault(*fault_of(self._logged(err, method)))

    def run(self, ctx: CallContext, method: str, params: list[Any]) -> Any:
        """Run hub method ``method`` in ``ctx`` and return its value (the
        multicall methods use this for each sub-call).

        :raises Exception: the method's fault (or unexpected error).
        """
        self.calls.append(method)
        return call_method(ctx, method, params)

    def _logged(self, err: Exception, method: str) -> Exception:
        if not isinstance(err, KojiFault):
            self.log.failure(
                "fake hub method {method} crashed", Failure(err), method=method
            )
        return err

    def fault_entry(self, err: Exception, method: str) -> dict[str, Any]:
        """Return the multicall entry for a failed sub-call of ``method``:
        ``{faultCode, faultString, traceback}``."""
        code, string = fault_of(self._logged(err, method))
        trace = "".join(traceback.format_exception(err))
        return {"faultCode": code, "faultString": string, "traceback": trace}

    def cancel_pending(self) -> None:
        """Cancel every delayed answer not yet sent (the server calls this
        when it stops)."""
        for delayed in list(self._delayed):
            if delayed.active():
                delayed.cancel()
        self._delayed.clear()

    @staticmethod
    def _xml_headers(request: Request) -> None:
        request.setResponseCode(200)
        request.setHeader(b"Content-Type", b"text/xml")
        request.setHeader(b"Koji-Version", KOJI_VERSION.encode())

    def _write_xml(self, request: Request, body: bytes) -> None:
        self._xml_headers(request)
        request.setHeader(b"Content-Length", str(len(body)).encode())
        request.write(body)
        request.finish()

    def _write_fault(self, request: Request, code: int, string: str) -> None:
        self._write_xml(request, encode_fault(code, string))

    def _write_truncated(self, request: Request, body: bytes) -> None:
        self._xml_headers(request)
        request.setHeader(b"Content-Length", str(len(body)).encode())
        request.write(body[: len(body) // 2])
        # The channel is the transport's producer; over TLS a connection
        # with a registered producer is not closed until it unregisters.
        # A TCP or TLS connection, a consumer too (ITransport does not say so).
        transport: Any = request.transport
        transport.unregisterProducer()
        transport.loseConnection()

    @staticmethod
    def _write_http_error(request: Request, status: int) -> None:
        phrase = _STATUS_PHRASES[status]
        body = f"<html><body><h1>{status} {phrase}</h1></body></html>\n".encode()
        request.setResponseCode(status, phrase.encode())
        request.setHeader(b"Content-Type", b"text/html; charset=utf-8")
        request.setHeader(b"Content-Length", str(len(body)).encode())
        request.write(body)
        request.finish()
