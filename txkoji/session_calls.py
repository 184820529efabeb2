"""The logged-in side of a :class:`~txkoji.connection.Connection`.

:class:`SessionClient` holds the connection's hub session once a login
succeeded, and sends every call of that session: each waits its turn in a
:class:`~txkoji.session.SessionOrder` (calls that queue up go together as
one multicall), gets the next call number, keeps that number through the
requester's retries, and, when the hub says the session expired, logs in
again once by the same method and credentials before sending again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from txkoji.auth import UnsupportedAuthType, choose_authtype, log_in
from txkoji.auth.errors import LoginRefused
from txkoji.codec import encode_call
from txkoji.exceptions import AuthError, AuthExpired, KojiLoginException, RetryError
from txkoji.multicall import settle_entries
from txkoji.requester import Requester
from txkoji.results import ResultType, result_type
from txkoji.session import Session, SessionOrder

#: How a multicall answer of mixed methods is decoded: plain entries.
MULTICALL_TYPE = ResultType()


def multicall_type(calls: list[tuple[str, list[Any]]]) -> ResultType:
    """Return how to decode the answer to ``calls``: when they all call one
    method whose answer has a record class, its records are built while
    decoding (``shape`` ``"multicall/<shape>"``), else plain entries."""
    methods = {method for method, _ in calls}
    if len(methods) == 1:
        rtype = result_type(methods.pop())
        if rtype.record_class is not None:
            return ResultType(rtype.record_class, f"multicall/{rtype.shape}")
    return MULTICALL_TYPE


def multicall_body(calls: list[tuple[str, list[Any]]]) -> bytes:
    """Encode ``[(method, params), ...]`` as one ``system.multicall``."""
    return encode_call(
        "system.multicall",
        [[{"methodName": method, "params": params} for method, params in calls]],
    )


class SessionClient:
    """Login, logout and the calls of one connection's hub session.

    :param requester: sends the session's requests (see
        :class:`~txkoji.requester.Requester`).
    :param reactor: the reactor logins run on (their thread pool, TLS).
    :param config: the profile's resolved options (login credentials).
    :param owner: the object typed results are attached to (the
        connection: ``build.connection``).
    :param max_batch: at most this many queued calls in one multicall.
    """

    log = Logger()

    def __init__(
        self,
        requester: Requester,
        reactor: Any,
        config: Mapping[str, Any],
        owner: Any,
        max_batch: int,
    ) -> None:
        self._requester = requester
        self._reactor = reactor
        self._config = config
        self._owner = owner
        #: The hub session, or ``None`` when not logged in.
        self.session: Session | None = None
        self.order = SessionOrder(self._send_batch, max_batch=max_batch)

    @property
    def url(self) -> str:
        """The hub URL."""
        return self._requester.url

    def login(self, authtype: str | None) -> defer.Deferred[bool]:
        """Log in (see :meth:`txkoji.connection.Connection.login`).

        :returns: a Deferred firing with ``True``, or failing with a
            :class:`~txkoji.exceptions.KojiLoginException` subclass.
        """
        try:
            method = choose_authtype(self._config, authtype)
        except UnsupportedAuthType:
            return defer.fail()
        d = log_in(self._reactor, self._config, self.url, method)
        return d.addCallback(self._logged_in)

    def _logged_in(self, session: Session) -> bool:
        self.session = session
        self.log.info(
            "logged in to {url} by {authtype} (session {session_id})",
            url=self.url,
            authtype=session.authtype,
            session_id=session.session_id,
        )
        return True

    def logout(self) -> defer.Deferred[None]:
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

        body = encode_call("logout", [])
        return self.call("logout", [], body, result_type("logout")).addBoth(forget)

    def call(
        self, method: str, params: list[Any], body: bytes, rtype: ResultType
    ) -> defer.Deferred[Any]:
        """Queue one call of the session.

        :returns: a Deferred firing with the call's finished value.
        """

        def alone() -> defer.Deferred[Any]:
            d = self.send(method, body, rtype)
            return d.addCallback(rtype.finish, self._owner)

        return self.order.submit(method, params, len(body), alone)

    def multicall(
        self, calls: list[tuple[str, list[Any]]]
    ) -> defer.Deferred[list[Any]]:
        """Queue a multicall of the session; it goes alone, with one call
        number.

        :returns: a Deferred firing with each call's typed value or
            exception instance.
        """
        return self.order.submit(
            "system.multicall", None, 0, lambda: self._send_batch(calls)
        )

    def send(self, method: str, body: bytes, rtype: ResultType) -> defer.Deferred[Any]:
        """Send one request now (its turn has come): number it, retry it
        under the same number, log in again once on AuthExpired.

        :returns: a Deferred firing with the decoded answer.  It fails with
            the request's error; a RetryError says the hub may already have
            run the call.  Cancelling it cancels the request under way.
        """
        return defer.Deferred.fromCoroutine(self._send(method, body, rtype))

    async def _send(self, method: str, body: bytes, rtype: ResultType) -> Any:
        requester = self._requester
        renewed = False
        while True:
            session = self.session
            if session is None:
                # Logged out while the call waited for its turn.
                return await requester.send(method, body, rtype)
            callnum = session.next_callnum()
            url, headers = session.credentials(self.url, callnum)
            try:
                return await requester.send(
                    method, body, rtype, url=url, headers=headers, logged_in=True
                )
            except AuthExpired:
                if renewed:
                    raise
                renewed = True
                await self._log_in_again(session)
            except RetryError as error:
                raise RetryError(
                    f"{error.faultString} (the hub had already received call "
                    f"number {callnum}, {method}, of this session: it may have "
                    "run it, and did not run it again)",
                    error.faultCode,
                    method,
                ) from None

    async def _log_in_again(self, session: Session) -> None:
        """Renew an expired session in place, or open a new one on hubs
        that cannot renew (before 1.32).

        :raises AuthExpired: when no new login succeeded; its cause is the
            login's error.
        """
        reactor, config, url = self._reactor, self._config, self.url
        # Hubs before 1.31 do not announce header auth, and none of them
        # can renew; 1.31 announces it but refuses renew=True.
        renewing: Session | None = session if session.header_auth else None
        self.log.info(
            "session {session_id} expired; logging in again by {authtype}",
            session_id=session.session_id,
            authtype=session.authtype,
        )
        try:
            try:
                fresh = await log_in(reactor, config, url, session.authtype, renewing)
            except LoginRefused:
                if renewing is None:
                    raise
                fresh = await log_in(reactor, config, url, session.authtype)
        except KojiLoginException as error:
            raise AuthExpired(
                f"session {session.session_id} expired and logging in again "
                f"by {session.authtype} failed: {error}",
                AuthExpired.faultCode,
            ) from error
        session.renew(fresh)

    def _send_batch(
        self, calls: list[tuple[str, list[Any]]]
    ) -> defer.Deferred[list[Any]]:
        """Send calls as one numbered multicall; fire with each call's
        typed value or exception instance."""
        body = multicall_body(calls)
        d = self.send("system.multicall", body, multicall_type(calls))
        return d.addCallback(settle_entries, calls, self._owner)
