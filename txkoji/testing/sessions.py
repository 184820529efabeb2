"""Sessions of the fake hub, with Koji's call-number rules.

:class:`~txkoji.testing.session_store.SessionStore` (imported here too)
creates sessions at login and checks every call that names one
(``Koji-Session-*`` headers, or the legacy ``session-id`` /
``session-key`` / ``callnum`` query string):

* an unknown session or a wrong key: AuthError ``Invalid session or bad
  credentials``;
* an expired session (no call for ``renewal_timeout`` seconds, or expired
  by ``SessionStore.expire``): AuthExpired;
* once a write stored call number N: a lower number is SequenceError
  ``N > M (session S)``, N again is RetryError (except for the
  ``RETRY_WHITELIST`` methods), N+1 and above are fine;
* only calls that commit a write store their number.

Session methods: ``logout`` (which ends the session's subsessions too),
``subsession``, ``logoutChild``, ``getLoggedInUser``, ``exclusiveSession``,
``sharedSession``.  Expiring a session expires its subsessions.
"""

from __future__ import annotations

from typing import Any

from txkoji.exceptions import AuthError, AuthLockError, GenericError
from txkoji.testing.dispatch import CallContext, hub_method
from txkoji.testing.session_store import (
    LOCK_EXEMPT,
    LOGIN_METHODS,
    RETRY_WHITELIST,
    CallCredentials,
    HubSession,
    SessionStore,
    request_credentials,
)

__all__ = [
    "LOCK_EXEMPT",
    "LOGIN_METHODS",
    "RETRY_WHITELIST",
    "CallCredentials",
    "HubSession",
    "SessionStore",
    "exclusiveSession",
    "getLoggedInUser",
    "logged_in_user",
    "logout",
    "logoutChild",
    "request_credentials",
    "sharedSession",
    "subsession",
]


def logged_in_user(ctx: CallContext) -> dict[str, Any]:
    """Return the user of the call's session.

    :raises AuthError: ``Not logged in`` for an anonymous call.
    """
    if ctx.session is None:
        raise AuthError("Not logged in")
    return dict(ctx.state.users[ctx.session.user_id])


@hub_method(write=True)
def logout(ctx: CallContext) -> None:
    """End the caller's session (nothing when anonymous)."""
    if ctx.session is not None:
        ctx.hub.sessions.close(ctx.session)


@hub_method(write=True)
def subsession(ctx: CallContext) -> dict[str, Any]:
    """Open a subsession of the caller's session: same user and auth type,
    its own key and call numbers; a subsession's subsession belongs to the
    first session.

    :raises AuthError: ``Not logged in`` for an anonymous call.
    """
    user = logged_in_user(ctx)
    session = ctx.session
    master = session.master if session.master is not None else session.id
    return ctx.hub.sessions.create(user, session.authtype, master=master)


@hub_method(write=True)
def logoutChild(ctx: CallContext, session_id: int) -> None:
    """End subsession ``session_id`` of the caller's session (nothing when
    it is no such subsession).

    :raises AuthError: ``Not logged in`` for an anonymous call.
    """
    logged_in_user(ctx)
    child = ctx.hub.sessions.sessions.get(session_id)
    if child is not None and child.master == ctx.session.id:
        ctx.hub.sessions.close(child)


@hub_method()
def getLoggedInUser(ctx: CallContext) -> Any:
    """Return the caller's user record, or nil when anonymous."""
    return logged_in_user(ctx) if ctx.session is not None else None


@hub_method(write=True)
def exclusiveSession(ctx: CallContext, force: bool = False) -> None:
    """Make the caller's session the only usable one of its user: the
    user's other sessions get AuthLockError until it is shared again.

    :raises AuthLockError: when another session of the user holds the lock
        and ``force`` is false (with ``force``, that session expires).
    :raises GenericError: for a subsession, or a session that is exclusive
        already.
    """
    logged_in_user(ctx)
    if ctx.session.master is not None:
        raise GenericError("subsessions cannot become exclusive")
    if ctx.session.exclusive:
        raise GenericError("session is already exclusive")
    holder = ctx.hub.sessions.lock_holder(ctx.session)
    if holder is not None:
        if not force:
            raise AuthLockError("Cannot get exclusive session")
        holder.expired = True
        holder.exclusive = False
    ctx.session.exclusive = True


@hub_method(write=True)
def sharedSession(ctx: CallContext) -> None:
    """Release the caller's exclusive lock."""
    logged_in_user(ctx)
    ctx.session.exclusive = False
