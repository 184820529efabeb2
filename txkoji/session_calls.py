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
from txkoji.config import ProfileConfig
from txkoji.exceptions import (
    AuthError,
    AuthExpired,
    KojiConfigError,
    KojiConnectionClosed,
    KojiLoginException,
    KojiSessionError,
    RetryError,
)
from txkoji.multicall import settle_entries
from txkoji.requester import Requester, StopError
from txkoji.results import ResultType, result_type
from txkoji.session import RESUMED, Session, SessionOrder

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
        :class:`~txkoji.requester.Requester`); logins go through its
        transport.
    :param config: the profile's resolved options (login credentials).
    :param owner: the object typed results are attached to (the
        connection: ``build.connection``); settable.
    :param max_batch: at most this many queued calls in one multicall.
    """

    log = Logger()

    def __init__(
        self,
        requester: Requester,
        config: ProfileConfig,
        owner: Any,
        max_batch: int,
    ) -> None:
        self._requester = requester
        self._config = config
        #: The options the session logged in with (the profile's, with the
        #: login's keyword options on top): renewals log in with them.
        self._login_config = config
        #: The login call's keywords besides the credentials (``exclusive``,
        #: the password login's ``opts``): renewals send them again.
        self._login_extra: dict[str, Any] = {}
        self.owner = owner
        self._max_batch = max_batch
        #: The hub session, or ``None`` when not logged in.
        self.session: Session | None = None
        self.order = SessionOrder(self._send_batch, max_batch=max_batch)
        #: Whether a call whose session ended while it waited goes out
        #: anonymously (a connection's) or fails (a subsession's).
        self.anonymous_after_logout = True
        #: Why calls fail once :meth:`shut`, else ``None``.
        self._shut: StopError | None = None

    @property
    def url(self) -> str:
        """The hub URL."""
        return self._requester.url

    def login(
        self,
        authtype: str | None,
        options: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> defer.Deferred[bool]:
        """Log in (see :meth:`txkoji.connection.Connection.login`).

        :param options: login options overriding the profile's
            (``proxyuser``, ``proxyauthtype``); ``None`` values are ignored.
        :param extra: the login call's other keywords (``exclusive``,
            ``opts``); ``None`` values are left out.
        :returns: a Deferred firing with ``True``, or failing with a
            :class:`~txkoji.exceptions.KojiLoginException` subclass, or
            with :class:`~txkoji.exceptions.KojiConfigError` for a malformed
            option.
        """
        try:
            config = self._config.with_options(**(options or {}))
            method = choose_authtype(config, authtype)
        except (UnsupportedAuthType, KojiConfigError):
            return defer.fail()
        given = {name: value for name, value in (extra or {}).items() if value}
        d = log_in(self._requester.transport, config, self.url, method, extra=given)
        return d.addCallback(self._logged_in, config, given)

    def _logged_in(
        self, session: Session, config: ProfileConfig, extra: dict[str, Any]
    ) -> bool:
        self.session = session
        self._login_config = config
        self._login_extra = extra
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
        body = encode_call("logout", [])
        d = self.call("logout", [], body, result_type("logout"))
        return d.addBoth(self.forget, session)

    def shut(self, error: StopError) -> None:
        """Fail at once, with ``error(method)``, the calls waiting for their
        turn, and the calls whose session has ended by the time their turn
        comes (the calls in flight go on)."""
        self._shut = error
        self.order.fail_waiting(error)

    def forget(self, outcome: Any, session: Session) -> Any:
        """Forget ``session`` (unless another replaced it), once the call
        ending it gave ``outcome``; return that outcome, or ``None`` for an
        AuthError (the session was gone already)."""
        if self.session is session:
            self.session = None
        if isinstance(outcome, Failure) and outcome.check(AuthError):
            return None
        return outcome

    def open_subsession(self) -> defer.Deferred[SessionClient]:
        """Ask the hub for a subsession of this session (the ``subsession``
        call, in this session's order).

        :returns: a Deferred firing with a new :class:`SessionClient` that
            holds the subsession, sends through the same requester, and
            renews by this session's login; its ``owner`` is still this
            one's.  It fails with :class:`~txkoji.exceptions.KojiSessionError`
            when not logged in, or with the call's error.
        """
        session = self.session
        if session is None:
            return defer.fail(
                KojiSessionError("a subsession needs a logged-in connection")
            )
        body = encode_call("subsession", [])
        d = self.call("subsession", [], body, result_type("subsession"))

        def adopt(answer: Any) -> SessionClient:
            client = SessionClient(
                self._requester,
                self._config,
                self.owner,
                self._max_batch,
            )
            client.session = Session.from_login(answer, session.authtype, "subsession")
            client._login_config = self._login_config
            client._login_extra = {
                name: value
                for name, value in self._login_extra.items()
                if name != "exclusive"  # subsessions share their master's
            }
            client.anonymous_after_logout = False
            return client

        return d.addCallback(adopt)

    def call(
        self, method: str, params: list[Any], body: bytes, rtype: ResultType
    ) -> defer.Deferred[Any]:
        """Queue one call of the session.

        :returns: a Deferred firing with the call's finished value.
        """

        def alone() -> defer.Deferred[Any]:
            d = self.send(method, body, rtype)
            return d.addCallback(rtype.finish, self.owner)

        sent = self.order.submit(method, params, len(body), alone)
        if method == "exclusiveSession":
            # As the official client: renewals ask for exclusivity again.
            sent.addCallback(self._became_exclusive)
        return sent

    def _became_exclusive(self, value: Any) -> Any:
        self._login_extra["exclusive"] = True
        return value

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
                # The session ended while the call waited for its turn.
                if self._shut is not None:
                    raise self._shut(method)
                if not self.anonymous_after_logout:
                    raise KojiConnectionClosed(
                        f"cannot call {method}: its subsession has ended",
                        self.url,
                        method,
                    )
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
        transport, config, url = self._requester.transport, self._login_config, self.url
        if session.authtype == RESUMED:
            raise AuthExpired(
                f"session {session.session_id} expired, and it cannot be renewed: "
                "it was resumed from a saved sinfo, so there is no login to repeat",
                AuthExpired.faultCode,
            )
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
                fresh = await log_in(
                    transport,
                    config,
                    url,
                    session.authtype,
                    renewing,
                    extra=self._login_extra,
                )
            except LoginRefused:
                if renewing is None:
                    raise
                fresh = await log_in(
                    transport, config, url, session.authtype, extra=self._login_extra
                )
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
        return d.addCallback(settle_entries, calls, self.owner)
