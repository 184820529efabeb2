"""A logged-in hub session, and the order its calls reach the hub in.

:class:`Session` holds what a login answered (session id, session key,
whether the hub takes header auth) and numbers the session's calls 0, 1,
2, ...  It turns a call number into the request's credentials: the
``Koji-Session-*`` headers, or the legacy query string on older hubs.

:class:`SessionOrder` keeps the session's calls in number order.  The hub
stores the number of every call that commits a write and refuses lower
numbers afterwards (SequenceError), so two authenticated requests in
flight at once can fail each other.  The order therefore sends one
request at a time; calls that queue up behind the request in flight go
together as one ``system.multicall``, which costs one call number and one
round trip however many calls it carries.  The hub locks the session for
each request anyway, so nothing is lost by not sending in parallel.

Neither class touches the network or the reactor: the connection supplies
the functions that send.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from hyperlink import URL
from twisted.internet import defer
from twisted.python.failure import Failure

from txkoji.exceptions import KojiLoginException, KojiSessionError

#: Hub methods that never go into a multicall: multicalls themselves (they
#: cannot nest) and the calls that change the session the others rely on.
SOLITARY_METHODS = frozenset(
    {
        "system.multicall",
        "multiCall",
        "logout",
        "logoutChild",
        "sslLogin",
        "login",
        "subsession",
        "exclusiveSession",
        "sharedSession",
    }
)


class Session:
    """One logged-in session on the hub.

    :param session_id: the ``session-id`` of the login answer.
    :param key: the ``session-key`` (a bearer secret: never shown by
        ``repr()``).
    :param header_auth: send credentials in headers (hubs >= 1.31) rather
        than in the query string.
    :param authtype: how the session logged in (``"ssl"``, ``"gssapi"``,
        ``"password"``).
    :ivar callnum: the number the next call will carry.
    """

    def __init__(
        self, session_id: int, key: str, header_auth: bool, authtype: str
    ) -> None:
        self.session_id = session_id
        self.key = key
        self.header_auth = header_auth
        self.authtype = authtype
        self.callnum = 0

    @classmethod
    def from_login(cls, reply: Any, authtype: str, method: str = "sslLogin") -> Session:
        """Build a session from the answer to the call ``method``
        (``sslLogin``, ``login``, ``subsession``).

        :raises KojiLoginException: when the answer lacks a session id or
            key (the message names ``method``).
        """
        what = f"{authtype} login (calling {method})"
        if method == "subsession":
            what = "subsession call"
        if not isinstance(reply, Mapping):
            raise KojiLoginException(
                f"the hub answered the {what} with {type(reply).__name__}, "
                "not a session"
            )
        session_id = reply.get("session-id")
        key = reply.get("session-key")
        if not isinstance(session_id, int) or not isinstance(key, str) or not key:
            raise KojiLoginException(
                f"the hub's answer to the {what} lacks a session id or key"
            )
        return cls(session_id, key, bool(reply.get("header-auth")), authtype)

    def sinfo(self) -> dict[str, Any]:
        """Return the session as another client resumes it (see
        :func:`session_from_sinfo`)."""
        return {
            "session-id": self.session_id,
            "session-key": self.key,
            "header-auth": self.header_auth,
            "callnum": self.callnum,
        }

    def renew(self, renewed: Session) -> None:
        """Take over the id and key of a renewed login.

        The numbering goes on when the hub kept the session (so no number is
        used twice) and starts again at 0 when it made a new one.
        """
        if renewed.session_id != self.session_id:
            self.callnum = 0
        self.session_id = renewed.session_id
        self.key = renewed.key
        self.header_auth = renewed.header_auth

    def next_callnum(self) -> int:
        """Return the number for the next call, and count it."""
        callnum = self.callnum
        self.callnum += 1
        return callnum

    def credentials(
        self, url: str, callnum: int | None
    ) -> tuple[str, dict[bytes, bytes]]:
        """Return the URL and the extra headers of a call numbered
        ``callnum`` to hub ``url`` (``None``: no number, for requests the
        hub must not sequence, such as raw uploads)."""
        if self.header_auth:
            headers = self.login_headers()
            if callnum is not None:
                headers[b"Koji-Session-Callnum"] = b"%d" % callnum
            return url, headers
        location = URL.from_text(url)
        location = location.add("session-id", str(self.session_id))
        location = location.add("session-key", self.key)
        if callnum is not None:
            location = location.add("callnum", str(callnum))
        return location.to_text(), {}

    def login_headers(self) -> dict[bytes, bytes]:
        """Return the headers naming this session on a renewal login (no
        call number: a login is not a numbered call)."""
        return {
            b"Koji-Session-Id": b"%d" % self.session_id,
            b"Koji-Session-Key": self.key.encode("ascii"),
        }

    def __repr__(self) -> str:
        return (
            f"<Session {self.session_id} ({self.authtype}), next call {self.callnum}>"
        )


#: The ``authtype`` of a session resumed from a saved ``sinfo``: it has no
#: login to repeat when it expires.
RESUMED = "resumed"


def session_from_sinfo(sinfo: Mapping[str, Any]) -> Session:
    """Resume a saved session: ``sinfo`` holds its ``session-id`` and
    ``session-key``, as the official ``ClientSession(sinfo=...)`` takes
    them, and optionally ``header-auth`` (default false: the query string,
    which every hub reads) and ``callnum``, the number of its next call
    (default 0).

    :raises KojiSessionError: when a member is missing or of the wrong
        type (the message never shows the key).
    """
    if not isinstance(sinfo, Mapping):
        raise KojiSessionError(
            f"sinfo must be a mapping with session-id and session-key, not "
            f"{type(sinfo).__name__}"
        )
    session_id = sinfo.get("session-id")
    key = sinfo.get("session-key")
    callnum = sinfo.get("callnum", 0)
    if isinstance(session_id, bool) or not isinstance(session_id, int):
        raise KojiSessionError(f"sinfo needs an integer session-id, not {session_id!r}")
    if not isinstance(key, str) or not key:
        raise KojiSessionError("sinfo needs a non-empty session-key string")
    if isinstance(callnum, bool) or not isinstance(callnum, int) or callnum < 0:
        raise KojiSessionError(
            f"sinfo's callnum must be a whole number of at least 0, not {callnum!r}"
        )
    session = Session(session_id, key, bool(sinfo.get("header-auth")), RESUMED)
    session.callnum = callnum
    return session


@dataclass(eq=False)
class _Queued:
    """A call waiting for its turn."""

    method: str
    #: The call's packed params; ``None`` when it must go alone.
    params: list[Any] | None
    #: The size of its single-call body, to bound a multicall.
    size: int
    #: Sends the call alone; fires with its finished value.
    send_alone: Callable[[], defer.Deferred[Any]]
    result: defer.Deferred[Any] = field(init=False)
    #: The request carrying the call once it is sent alone.
    request: defer.Deferred[Any] | None = None
    queued: bool = True


#: Sends ``[(method, params), ...]`` as one multicall; fires with exactly
#: one outcome per call, each a finished value or an exception instance
#: (or fails as a whole).
BatchSender = Callable[[list[tuple[str, list[Any]]]], defer.Deferred[list[Any]]]


class SessionOrder:
    """Sends a session's calls one request at a time, in call order,
    batching the calls that wait.

    :param send_batch: sends several calls as one multicall (see
        :data:`BatchSender`).
    :param max_batch: at most this many calls in one multicall; 1 sends
        every call alone.
    :param max_batch_bytes: at most this many bytes of single-call bodies
        in one multicall (hubs refuse requests over 4 MiB by default).
    """

    def __init__(
        self,
        send_batch: BatchSender,
        max_batch: int = 100,
        max_batch_bytes: int = 1 << 21,
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, not {max_batch}")
        self._send_batch = send_batch
        self.max_batch = max_batch
        self.max_batch_bytes = max_batch_bytes
        self._waiting: deque[_Queued] = deque()
        self._busy = False
        self._drained: list[defer.Deferred[None]] = []
        #: Requests sent so far (single calls and multicalls), for tests
        #: and measurements.
        self.requests_sent = 0

    @property
    def pending(self) -> int:
        """How many calls wait for their turn (not counting those in
        flight)."""
        return len(self._waiting)

    def submit(
        self,
        method: str,
        params: list[Any] | None,
        size: int,
        send_alone: Callable[[], defer.Deferred[Any]],
    ) -> defer.Deferred[Any]:
        """Queue a call.

        :param method: the hub method.
        :param params: its packed params, or ``None`` when it must be sent
            alone (a multicall, a login or logout...).
        :param size: the size of its single-call body.
        :param send_alone: sends it as a request of its own.
        :returns: a Deferred firing with the call's value, or failing with
            its error.  Cancelling it before it is sent takes it out of the
            queue; cancelling it while it is sent alone cancels the request;
            the answer of a call sent in a multicall is then dropped.
        """
        if method in SOLITARY_METHODS:
            params = None
        item = _Queued(method, params, size, send_alone)
        item.result = defer.Deferred(lambda _: self._cancel(item))
        self._waiting.append(item)
        self._next()
        return item.result

    def drained(self) -> defer.Deferred[None]:
        """Return a Deferred firing with ``None`` once no call is in flight
        or waiting (at once when none is)."""
        if not self._busy and not self._waiting:
            return defer.succeed(None)
        waiter: defer.Deferred[None] = defer.Deferred()
        self._drained.append(waiter)
        return waiter

    def fail_waiting(self, error: Callable[[str], BaseException]) -> None:
        """Fail every call still waiting for its turn, at once, with
        ``error(method)`` (the calls in flight go on)."""
        waiting, self._waiting = self._waiting, deque()
        for item in waiting:
            item.queued = False
            _deliver(item.result, Failure(error(item.method)))

    def _cancel(self, item: _Queued) -> None:
        if item.queued:
            item.queued = False
            self._waiting.remove(item)
        elif item.request is not None:
            item.request.cancel()

    def _take(self) -> list[_Queued]:
        """Take the next request's calls off the queue: the head alone, or
        the batchable calls that follow each other from the head."""
        head = self._waiting.popleft()
        taken = [head]
        if head.params is None:
            return taken
        size = head.size
        while len(taken) < self.max_batch and self._waiting:
            following = self._waiting[0]
            size += following.size
            if following.params is None or size > self.max_batch_bytes:
                break
            taken.append(self._waiting.popleft())
        return taken

    def _next(self) -> None:
        if self._busy or not self._waiting:
            return
        self._busy = True
        taken = self._take()
        for item in taken:
            item.queued = False
        self.requests_sent += 1
        if len(taken) == 1:
            item = taken[0]
            item.request = defer.maybeDeferred(item.send_alone)
            item.request.addBoth(self._settle_alone, item)
        else:
            # _take() batches only calls that have params.
            batch = cast(
                "list[tuple[str, list[Any]]]",
                [(item.method, item.params) for item in taken],
            )
            request = defer.maybeDeferred(self._send_batch, batch)
            request.addBoth(self._settle_batch, taken)

    def _settle_alone(self, outcome: Any, item: _Queued) -> None:
        item.request = None
        _deliver(item.result, outcome)
        self._done()

    def _settle_batch(self, outcome: Any, taken: Sequence[_Queued]) -> None:
        if isinstance(outcome, Failure):
            outcomes: Sequence[Any] = [outcome] * len(taken)
        else:
            outcomes = [
                Failure(value) if isinstance(value, BaseException) else value
                for value in outcome
            ]
        for item, value in zip(taken, outcomes, strict=True):
            _deliver(item.result, value)
        self._done()

    def _done(self) -> None:
        self._busy = False
        self._next()
        if not self._busy:
            drained, self._drained = self._drained, []
            for waiter in drained:
                waiter.callback(None)


def _deliver(result: defer.Deferred[Any], outcome: Any) -> None:
    """Fire ``result`` with ``outcome`` unless it was cancelled already."""
    if result.called:
        return
    if isinstance(outcome, Failure):
        result.errback(outcome)
    else:
        result.callback(outcome)
