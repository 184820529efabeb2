"""The fake hub's session store: sessions, their credentials, and Koji's
call-number rules (see :mod:`txkoji.testing.sessions` for the rules and the
session methods)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs

from twisted.web.server import Request

from txkoji.exceptions import (
    AuthError,
    AuthExpired,
    AuthLockError,
    RetryError,
    SequenceError,
)

#: Methods that log in: they run without a session.
LOGIN_METHODS = frozenset({"sslLogin", "login"})

#: Methods a locked-out session may still call.
LOCK_EXEMPT = frozenset({"logout", "exclusiveSession"})

#: Methods a hub lets a client repeat under the same call number.
RETRY_WHITELIST = frozenset({"host.taskWait", "host.taskUnwait", "host.getID"})


@dataclass(eq=False)
class HubSession:
    """One session on the fake hub.

    :ivar lastcall: the number of the last call that committed a write.
    :ivar callnums: the number of every call checked, in arrival order.
    """

    id: int
    key: str
    user_id: int
    authtype: str
    renewed_at: float
    expired: bool = False
    exclusive: bool = False
    #: The id of the session this one is a subsession of.
    master: int | None = None
    #: The client address recorded with the session: the password login's
    #: ``opts["hostip"]`` when given, else ``None`` (the request's).
    hostip: str | None = None
    lastcall: int | None = None
    callnums: list[int | None] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"<HubSession {self.id} of user {self.user_id}>"


@dataclass(frozen=True)
class CallCredentials:
    """The session fields a request carried (None where absent)."""

    session_id: int | None
    key: str | None
    callnum: int | None


def request_credentials(request: Request | None) -> CallCredentials:
    """Read a request's session id, key and call number from its headers,
    else from its query string.

    :raises AuthError: for a session id or call number that is not an
        integer.
    """
    if request is None:
        return CallCredentials(None, None, None)
    query = parse_qs(request.uri.partition(b"?")[2].decode("latin-1"))

    def field(header: bytes, name: str) -> str | None:
        value = request.getHeader(header)
        if value is not None:
            return value.decode("latin-1")
        values = query.get(name)
        return values[0] if values else None

    raw_id = field(b"koji-session-id", "session-id")
    raw_callnum = field(b"koji-session-callnum", "callnum")
    try:
        session_id = int(raw_id) if raw_id is not None else None
        callnum = int(raw_callnum) if raw_callnum is not None else None
    except ValueError:
        raise AuthError("Invalid session id or call number") from None
    return CallCredentials(
        session_id, field(b"koji-session-key", "session-key"), callnum
    )


class CallState(Protocol):
    """What the store reads and sets of a call (a
    :class:`~txkoji.testing.dispatch.CallContext`)."""

    method: str
    request: Request | None
    session: Any
    callnum: int | None
    wrote: bool


class SessionStore:
    """Every session of one fake hub.

    :param clock: the hub's time source.
    :param renewal_timeout: seconds without a call after which a session
        expires (Koji's ``SessionRenewalTimeout``); ``None``: never.
    :ivar header_auth: whether logins answer ``header-auth: true`` (False
        plays a hub older than 1.31: the member is left out, and clients
        use the query string).
    :ivar renewal: whether logins take ``renew=True`` (False plays a hub
        older than 1.32, which answers fault 1, "unexpected keyword
        argument 'renew'").
    :ivar logins: how many logins (renewals included) succeeded.
    """

    def __init__(self, clock: Any, renewal_timeout: float | None = None) -> None:
        self.clock = clock
        self.renewal_timeout = renewal_timeout
        self.header_auth = True
        self.renewal = True
        self.sessions: dict[int, HubSession] = {}
        self.logins = 0
        self._next_id = 1

    def create(
        self, user: dict[str, Any], authtype: str, master: int | None = None
    ) -> dict[str, Any]:
        """Open a session for ``user`` (a subsession of session ``master``
        when given); return the login answer."""
        session = HubSession(
            self._next_id,
            f"{user['id']}-{secrets.token_urlsafe(15)[:20]}",
            user["id"],
            authtype,
            self.clock.seconds(),
            master=master,
        )
        self._next_id += 1
        self.sessions[session.id] = session
        if master is None:
            self.logins += 1
        return self._login_answer(session)

    def renew(self, credentials: CallCredentials, user: dict[str, Any]) -> Any:
        """Renew the session ``credentials`` name, when it belongs to
        ``user``: a new key, no longer expired.

        :returns: the login answer; ``False`` when there is no such session
            of ``user`` to renew; ``None`` (the hub's nil) for a subsession
            whose master was closed.
        """
        session = self.sessions.get(credentials.session_id or -1)
        if session is None or session.key != credentials.key:
            return False
        if session.user_id != user["id"]:
            return False
        if session.master is not None and session.master not in self.sessions:
            return None
        session.key = f"{user['id']}-{secrets.token_urlsafe(15)[:20]}"
        session.expired = False
        session.renewed_at = self.clock.seconds()
        self.logins += 1
        return self._login_answer(session)

    def logged_in(self, credentials: CallCredentials) -> bool:
        """Whether ``credentials`` name a live session (a login then fails
        with ``Already logged in``).

        :raises AuthError: when they name no session, or with a wrong key.
        """
        if credentials.session_id is None:
            return False
        session = self.sessions.get(credentials.session_id)
        if session is None or session.key != credentials.key:
            raise AuthError("Invalid session or bad credentials")
        return not self._expired(session)

    def _login_answer(self, session: HubSession) -> dict[str, Any]:
        answer: dict[str, Any] = {"session-id": session.id, "session-key": session.key}
        if self.header_auth:
            answer["header-auth"] = True
        return answer

    def expire(self, session_id: int | None = None) -> None:
        """Mark one session and its subsessions (default: every session)
        expired.  An expired session loses its exclusive lock: a renewal
        asks for it again (``exclusive=True``), as the official client
        does."""
        for session in self.sessions.values():
            if session_id is None or session_id in (session.id, session.master):
                session.expired = True
                session.exclusive = False

    def _expired(self, session: HubSession) -> bool:
        """Whether ``session`` expired, marking it and its subsessions
        expired once its renewal timeout has passed."""
        timeout = self.renewal_timeout
        now = self.clock.seconds()
        if timeout is not None and now - session.renewed_at > timeout:
            self.expire(session.id)
        return session.expired

    def open(self, credentials: CallCredentials, method: str) -> HubSession | None:
        """Check a call's session and call number before it runs.

        :returns: the session, or None for an anonymous call.
        :raises AuthError: unknown session or wrong key.
        :raises AuthExpired: the session expired.
        :raises AuthLockError: another session of the user is exclusive.
        :raises SequenceError: the number is lower than the stored one.
        :raises RetryError: the number equals the stored one.
        """
        if credentials.session_id is None:
            return None
        session = self.sessions.get(credentials.session_id)
        if session is None or session.key != credentials.key:
            raise AuthError("Invalid session or bad credentials")
        if self._expired(session):
            raise AuthExpired(f"session {session.id} has expired")
        holder = self.lock_holder(session)
        if holder is not None and method not in LOCK_EXEMPT:
            # The hub's own words (koji-protocol.md, 4.7).
            raise AuthLockError("User locked by another session")
        callnum, last = credentials.callnum, session.lastcall
        session.callnums.append(callnum)
        if callnum is not None and last is not None:
            if callnum < last:
                raise SequenceError(f"{last} > {callnum} (session {session.id})")
            if callnum == last and method not in RETRY_WHITELIST:
                raise RetryError(
                    f"unable to retry call {callnum} (method {method}) for "
                    f"session {session.id}"
                )
        session.renewed_at = self.clock.seconds()
        return session

    def begin(self, ctx: CallState) -> None:
        """Before a call runs: check the session and number it names (see
        :meth:`open`) and put them in ``ctx``.  Logins name no session
        (a renewal's ``sslLogin`` reads the expired one itself)."""
        if ctx.method in LOGIN_METHODS:
            return
        credentials = request_credentials(ctx.request)
        ctx.session = self.open(credentials, ctx.method)
        ctx.callnum = credentials.callnum

    def end(self, ctx: CallState) -> None:
        """After a call succeeded: store its number when it committed a
        write."""
        if ctx.wrote and ctx.session is not None and ctx.callnum is not None:
            ctx.session.lastcall = ctx.callnum

    def lock_holder(self, session: HubSession) -> HubSession | None:
        """Return another session of the same user holding the exclusive
        lock (not ``session``'s master), if any."""
        for other in self.sessions.values():
            # A subsession shares its master's lock.
            if other.id not in (session.id, session.master) and other.exclusive:
                if other.user_id == session.user_id:
                    return other
        return None

    def close(self, session: HubSession) -> None:
        """End ``session`` and its subsessions."""
        for other in list(self.sessions.values()):
            if session.id in (other.id, other.master):
                del self.sessions[other.id]
