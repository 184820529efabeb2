"""The logged-in side of a :class:`~txkoji.connection.Connection`.

:class:`SessionCalls` holds the connection's hub session once a login
succeeded, and sends every call of that session: each waits its turn in a
:class:`~txkoji.session.SessionOrder` (calls that queue up go together as
one multicall), gets the next call number, keeps that number through the
connection's retries, and, when the hub says the session expired, logs in
again once by the same method and credentials before sending again.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from txkoji.auth import UnsupportedAuthType, choose_authtype, log_in
from txkoji.codec import encode_call
from txkoji.exceptions import AuthError, AuthExpired, RetryError
from txkoji.multicall import settle_entry
from txkoji.results import ResultType, result_type
from txkoji.session import Session, SessionOrder

#: How a multicall answer of mixed methods is decoded: plain entries.
MULTICALL_TYPE = ResultType()


def multicall_type(calls: list[tuple[str, list]]) -> ResultType:
    """Return how to decode the answer to ``calls``: when they all call one
    method whose answer has a record class, its records are built while
    decoding (``shape`` ``"multicall/<shape>"``), else plain entries."""
    methods = {method for method, _ in calls}
    if len(methods) == 1:
        rtype = result_type(methods.pop())
        if rtype.record_class is not None:
            return ResultType(rtype.record_class, f"multicall/{rtype.shape}")
    return MULTICALL_TYPE


def multicall_body(calls: list[tuple[str, list]]) -> bytes:
    """Encode ``[(method, params), ...]`` as one ``system.multicall``."""
    return encode_call(
        "system.multicall",
        [[{"methodName": method, "params": params} for method, params in calls]],
    )


class SessionCalls:
    """Login, logout and the calls of one connection's hub session.

    :param connection: the connection (its ``reactor``, ``config``, ``url``,
        retry policy and ``_post``/``_send`` are used).
    :param max_batch: at most this many queued calls in one multicall.
    """

    log = Logger()

    def __init__(self, connection: Any, max_batch: int) -> None:
        self._connection = connection
        #: The hub session, or ``None`` when not logged in.
        self.session: Session | None = None
        self.order = SessionOrder(self._send_batch, max_batch=max_batch)

    def login(self, authtype: str | None) -> defer.Deferred:
        """Log in (see :meth:`txkoji.connection.Connection.login`).

        :returns: a Deferred firing with ``True``, or failing with a
            :class:`~txkoji.exceptions.KojiLoginException` subclass.
        """
        connection = self._connection
        try:
            method = choose_authtype(connection.config, authtype)
        except UnsupportedAuthType:
            return defer.fail()
        d = log_in(connection.reactor, connection.config, connection.url, method)
        d.addCallback(self._logged_in)
        return d

    def _logged_in(self, session: Session) -> bool:
        self.session = session
        self.log.info(
            "logged in to {url} by {authtype} (session {session_id})",
            url=self._connection.url,
            authtype=session.authtype,
            session_id=session.session_id,
        )
        return True

    def logout(self) -> defer.Deferred:
        """Log out (see :meth:`txkoji.connection.Connection.logout`).

        :returns: a Deferred firing with ``None``.
        """
        session = self.session
        if session is None:
            return defer.succeed(None)

        def forget(outcome: Any) -> Any:
            if self.session is session:
                self.session = None
            if isinstance(outcome, Failure) and outcome.check(AuthError):
                return None
            return outcome

        return self._connection.call("logout").addBoth(forget)

    def call(
        self, method: str, params: list, body: bytes, rtype: ResultType
    ) -> defer.Deferred:
        """Queue one call of the session.

        :returns: a Deferred firing with the call's finished value.
        """

        def alone() -> defer.Deferred:
            d = self.send(method, body, rtype)
            return d.addCallback(rtype.finish, self._connection)

        return self.order.submit(method, params, len(body), alone)

    def multicall(self, calls: list[tuple[str, list]]) -> defer.Deferred:
        """Queue a multicall of the session; it goes alone, with one call
        number.

        :returns: a Deferred firing with the raw answer entries.
        """
        body = multicall_body(calls)
        return self.order.submit(
            "system.multicall",
            None,
            len(body),
            lambda: self.send("system.multicall", body, multicall_type(calls)),
        )

    def send(self, method: str, body: bytes, rtype: ResultType) -> defer.Deferred:
        """Send one request now (its turn has come): number it, retry it
        under the same number, log in again once on AuthExpired.

        :returns: a Deferred firing with the decoded answer.  It fails with
            the request's error; a RetryError says the hub may already have
            run the call.
        """
        return defer.Deferred.fromCoroutine(self._send(method, body, rtype))

    async def _send(self, method: str, body: bytes, rtype: ResultType) -> Any:
        connection = self._connection
        renewed = False
        while True:
            session = self.session
            if session is None:
                # Logged out while the call waited for its turn.
                return await connection._send(method, body, rtype)
            callnum = session.next_callnum()
            url, headers = session.credentials(connection.url, callnum)
            try:
                return await connection._retry.run(
                    partial(connection._post, method, body, rtype, url, headers),
                    clock=connection.reactor,
                    method=method,
                    logged_in=True,
                )
            except AuthExpired:
                if renewed:
                    raise
            except RetryError as error:
                raise RetryError(
                    f"{error.faultString} (the hub had already received call "
                    f"number {callnum}, {method}, of this session: it may have "
                    "run it, and did not run it again)",
                    error.faultCode,
                    method,
                ) from None
            renewed = True
            self.log.info(
                "session {session_id} expired; logging in again by {authtype}",
                session_id=session.session_id,
                authtype=session.authtype,
            )
            fresh = await log_in(
                connection.reactor,
                connection.config,
                connection.url,
                session.authtype,
                session,
            )
            session.renew(fresh)

    def _send_batch(self, calls: list[tuple[str, list]]) -> defer.Deferred:
        """Send queued calls as one multicall; fire with each call's finished
        value or exception instance."""

        def settle(entries: list) -> list:
            if len(entries) != len(calls):
                return entries
            return [
                settle_entry(entry, method, self._connection, params)
                for entry, (method, params) in zip(entries, calls, strict=True)
            ]

        body = multicall_body(calls)
        d = self.send("system.multicall", body, multicall_type(calls))
        return d.addCallback(settle)
