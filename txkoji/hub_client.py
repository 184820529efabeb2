"""What a connection and its subsessions share: the call interface of a
Koji hub client, and the state of its session.

:class:`HubClient` is the base of :class:`~txkoji.connection.Connection`
and :class:`~txkoji.subsession.SubSession`: calls by name
(``client.getBuild(...)``, :class:`BoundHubMethod`), ``call``,
``multicall`` and ``MultiCall``, the logged-in session's id, key, call
numbers and ``sinfo``, the read-only hub URL, and the refusal of calls
once closed or inherited by a forked child.  It holds no way to make
itself: a connection builds one from a profile, a subsession from its
master's.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from txkoji.cache import Cache
from txkoji.codec import encode_call, pack_params
from txkoji.config import ProfileConfig
from txkoji.entry_digests import UNCHANGED, DigestingDecoder
from txkoji.exceptions import KojiConnectionClosed
from txkoji.hub_methods import HubMethods
from txkoji.multicall import MultiCall, settle_entries
from txkoji.requester import Requester, StopError
from txkoji.results import result_type
from txkoji.session import Session, SessionOrder
from txkoji.session_calls import SessionClient, multicall_body, multicall_type
from txkoji.transport import HubTransport
from txkoji.weblinks import fetch_from_web

#: Every live connection and subsession, so that a forked child can tell
#: them they belong to its parent (see :func:`_forget_in_child`).
_LIVE: weakref.WeakSet[HubClient] = weakref.WeakSet()


def _forget_in_child() -> None:
    """In a forked child, make every connection of the parent refuse calls:
    its pooled sockets and its session belong to the parent."""
    for connection in list(_LIVE):
        connection._forget_after_fork()


os.register_at_fork(after_in_child=_forget_in_child)


def _pack_calls(
    calls: Sequence[tuple[Any, ...]],
) -> tuple[list[tuple[str, list[Any]]], bytes]:
    """Pack ``(method, args[, kwargs])`` calls and encode their
    ``system.multicall`` body (empty for no calls).

    :raises TypeError, ValueError, OverflowError, IndexError: when a call
        cannot be sent.
    """
    packed = [
        (call[0], pack_params(call[1], call[2] if len(call) > 2 else {}))
        for call in calls
    ]
    return packed, multicall_body(packed) if packed else b""


class BoundHubMethod:
    """A hub method bound to a connection (or anything with its ``call``,
    such as a session pool): ``koji.getBuild`` is one; calling it calls the
    hub."""

    __slots__ = ("_connection", "name")

    def __init__(self, connection: HubMethods, name: str) -> None:
        self._connection = connection
        self.name = name

    def __call__(self, *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
        """Call the hub method: see :meth:`Connection.call`."""
        return self._connection.call(self.name, *args, **kwargs)

    def __repr__(self) -> str:
        return f"<hub method {self.name} of {self._connection!r}>"


class HubClient(HubMethods):
    """The call interface and session state of a connection or subsession
    (see the module's description).  Made by its subclasses only: they set
    the attributes used here (``config``, ``_url``, ``_transport``,
    ``_requester``, ``_session``, ``_refusal``, ...)."""

    log = Logger()

    #: At most this many calls of a logged-in session go in one multicall
    #: when they queue up behind the request in flight (1: never batch).
    max_session_batch = 100

    config: ProfileConfig
    profile: str | None
    reactor: Any
    clock: IReactorTime
    weburl: str | None
    topurl: str | None
    _url: str
    _transport: Any
    _requester: Requester
    _session: SessionClient
    #: Why calls are refused (made from the method name), or ``None``
    #: while open.
    _refusal: StopError | None
    _forked: bool

    @property
    def url(self) -> str:
        """The hub URL calls go to (read-only: make another connection
        for another hub)."""
        return self._url

    @url.setter
    def url(self, value: str) -> None:
        raise AttributeError(
            f"{self!r}: url is read-only (calls, logins and file transfers all "
            f"use the hub URL the connection was made with); make a new "
            f"Connection(server={value!r}) instead"
        )

    @property
    def closed(self) -> bool:
        """Whether the connection refuses calls: closed, or inherited by a
        forked child."""
        return self._refusal is not None

    def _stop_error(self, why: str) -> StopError:
        """Return what makes the error of a call refused because ``why``
        (``"was closed"``)."""
        shown = repr(self)
        url = self._url

        def error(method: str) -> BaseException:
            return KojiConnectionClosed(
                f"cannot call {method}: {shown} {why}", url, method
            )

        return error

    def _forget_after_fork(self) -> None:
        """Refuse every call from now on, and let ``close()`` touch neither
        the parent's session nor its sockets (the official ``_forget()``)."""
        self._refusal = self._stop_error(
            f"was made in process {os.getppid()}, and this is a forked child "
            "of it: the connection's sockets and session belong to the parent "
            "(make a new Connection in the child; pass sinfo=parent.sinfo to "
            "share the session)"
        )
        self._forked = True
        self._session.session = None
        if isinstance(self._transport, HubTransport):
            self._transport.closed = True

    @property
    def transport(self) -> Any:
        """The transport this connection's requests go through (a
        :class:`~txkoji.transport.HubTransport` unless one was passed in):
        its ``pool``, ``agent`` and ``tls_policy`` serve other requests to
        the hub's servers, such as file transfers.

        :raises KojiConnectionClosed: in a forked child of the process that
            made the connection (its pooled sockets are the parent's).
        """
        if self._forked and self._refusal is not None:
            raise self._refusal("a request through its transport")
        return self._transport

    @cached_property
    def cache(self) -> Cache:
        """The connection's :class:`~txkoji.cache.Cache` of user and tag
        names (``koji.cache.user_name(2)``), made on first use; assign
        another ``Cache`` to use another directory.

        :raises CacheKeyError: when the profile name cannot be a cache
            directory name.
        """
        return Cache(self)

    @property
    def hub_version(self) -> str | None:
        """The hub's version from its latest answer's ``Koji-Version``
        header, or ``None`` before the first answer."""
        return getattr(self._transport, "hub_version", None)

    def session_credentials(self, url: str) -> tuple[str, dict[bytes, bytes]] | None:
        """Return ``url`` and the headers naming the logged-in session
        without a call number, for requests that are not numbered calls
        (raw uploads); ``None`` when not logged in."""
        session = self._session.session
        return session.credentials(url, None) if session else None

    @property
    def session_order(self) -> SessionOrder:
        """The :class:`~txkoji.session.SessionOrder` that sends the
        logged-in session's calls (its ``max_batch`` can be tuned; its
        ``requests_sent`` counts requests)."""
        return self._session.order

    @property
    def session(self) -> Session | None:
        """The logged-in :class:`~txkoji.session.Session` (its ``repr``
        hides the key), or ``None`` when not logged in."""
        return self._session.session

    @property
    def sinfo(self) -> dict[str, Any] | None:
        """The logged-in session as another process can resume it
        (``Connection(sinfo=...)``, or the official
        ``ClientSession(sinfo=...)``): ``session-id``, ``session-key`` (a
        secret), ``header-auth`` and the next ``callnum``; ``None`` when not
        logged in."""
        session = self._session.session
        return session.sinfo() if session else None

    @property
    def session_id(self) -> int | None:
        """The hub session's id, or ``None`` when not logged in."""
        session = self._session.session
        return session.session_id if session else None

    @property
    def session_key(self) -> str | None:
        """The hub session's key (a secret), or ``None`` when not logged
        in."""
        session = self._session.session
        return session.key if session else None

    @property
    def callnum(self) -> int | None:
        """The number the session's next call will carry, or ``None`` when
        not logged in."""
        session = self._session.session
        return session.callnum if session else None

    def __getattr__(self, name: str) -> BoundHubMethod:
        if name.startswith("_"):
            raise AttributeError(name)
        return BoundHubMethod(self, name)

    def __reduce__(self) -> Any:
        raise TypeError(
            "a txkoji Connection holds a connection pool and a reactor; it "
            "cannot be copied or pickled (make a new one from the profile)"
        )

    def __repr__(self) -> str:
        name = f"profile {self.profile!r}" if self.profile else self._url
        return f"<txkoji.Connection to {name}>"

    def call(self, method: str, *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
        """Call hub method ``method`` with positional and keyword arguments.

        :returns: a Deferred firing with the decoded, typed result (see
            :mod:`txkoji.results`: ``getBuild`` gives a ``Build``, structs
            give ``Munch`` objects).  It fails with the fault's own
            :class:`~txkoji.exceptions.KojiFault` subclass, a
            :class:`~txkoji.exceptions.KojiTransportError` subclass, or
            :class:`~txkoji.exceptions.KojiProtocolError`; with ``TypeError``
            or ``OverflowError`` when an argument cannot be sent.
        """
        if self._refusal is not None:
            return defer.fail(self._refusal(method))
        try:
            params = pack_params(args, kwargs)
            body = encode_call(method, params)
        except (TypeError, ValueError, OverflowError):
            return defer.fail()
        rtype = result_type(method, params)
        if self._session.session is not None:
            return self._session.call(method, params, body, rtype)
        d = self._requester.send(method, body, rtype)
        return d.addCallback(rtype.finish, self)

    def getTaskInfo(self, task_id: int, **kwargs: Any) -> defer.Deferred[Any]:
        """Fetch a task with its request parameters (``request=True`` unless
        told otherwise, as txkoji 0.10 did).

        :returns: a Deferred firing with a :class:`~txkoji.task.Task`, or
            ``None`` when there is no such task.
        """
        kwargs.setdefault("request", True)
        return self.call("getTaskInfo", task_id, **kwargs)

    def from_web(self, url: str) -> defer.Deferred[Any]:
        """Fetch the object a kojiweb info page URL shows
        (``buildinfo?buildID=1``, ``taskinfo?taskID=2``, ...).

        :returns: a Deferred firing with the typed record, or ``None`` when
            ``url`` is not such a page or the hub has no such object.  It
            fails as the hub call does.
        """
        return fetch_from_web(self, url)

    def MultiCall(self, strict: bool = False, batch: int | None = None) -> MultiCall:
        """Return a new :class:`~txkoji.multicall.MultiCall` on this
        connection."""
        return MultiCall(self, strict=strict, batch=batch)

    def multicall(self, calls: Sequence[tuple[Any, ...]]) -> defer.Deferred[list[Any]]:
        """Send several calls as one ``system.multicall`` request.

        :param calls: ``(method, args)`` or ``(method, args, kwargs)``
            tuples, e.g. ``[("getTaskInfo", [1]), ("listTasks", [],
            {"opts": {"parent": 1}})]``.
        :returns: a Deferred firing with one outcome per call, in order:
            the call's typed value (as a single call would give it), or the
            exception instance of its fault.  When logged in the request
            carries one call number.  It fails with a transport error, or
            with ``KojiProtocolError`` when the answer does not hold one
            well-formed entry per call; with ``TypeError`` or ``ValueError``
            when an argument cannot be sent.  No request is made for an
            empty list.
        """
        if self._refusal is not None:
            return defer.fail(self._refusal("system.multicall"))
        try:
            packed, body = _pack_calls(calls)
        except (TypeError, ValueError, OverflowError, IndexError):
            return defer.fail()
        if not packed:
            return defer.succeed([])
        if self._session.session is not None:
            return self._session.multicall(packed)
        d = self._requester.send("system.multicall", body, multicall_type(packed))
        return d.addCallback(settle_entries, packed, self)

    def multicall_digests(
        self,
        calls: Sequence[tuple[Any, ...]],
        known: Sequence[bytes | None],
    ) -> defer.Deferred[tuple[list[Any], list[bytes | None]]]:
        """Send ``calls`` as :meth:`multicall` does, but leave undecoded the
        entries whose raw bytes did not change since the caller last saw
        them (see :mod:`txkoji.entry_digests`).

        :param calls: as :meth:`multicall`.
        :param known: per call, the digest of its entry from an earlier
            answer the caller decoded successfully (the second item this
            method fired with), or ``None``.
        :returns: a Deferred firing with ``(outcomes, digests)``: the
            outcomes as :meth:`multicall` gives them, except
            :data:`~txkoji.entry_digests.UNCHANGED` for each entry whose
            digest is the one given in ``known`` (its bytes are the same:
            its value equals the one decoded then); and each entry's
            digest (``None`` when the answer's entries could not be told
            apart, so every entry was decoded).  Logged in, the calls go
            through :meth:`multicall` (every entry decoded, every digest
            ``None``).  It fails as :meth:`multicall` does, and with
            ``ValueError`` when ``known`` has not one item per call.
        """
        if len(known) != len(calls):
            return defer.fail(
                ValueError(f"{len(known)} digests given for {len(calls)} calls")
            )
        if self._refusal is not None or not calls or self._session.session is not None:
            d = self.multicall(calls)
            return d.addCallback(lambda outcomes: (outcomes, [None] * len(calls)))
        try:
            packed, body = _pack_calls(calls)
        except (TypeError, ValueError, OverflowError, IndexError):
            return defer.fail()
        rtype = multicall_type(packed)
        decoders: list[DigestingDecoder] = []

        def make() -> DigestingDecoder:
            decoders.append(
                DigestingDecoder(
                    "system.multicall", rtype.record_class, rtype.shape, list(known)
                )
            )
            return decoders[-1]

        def settle(entries: Any) -> tuple[list[Any], list[bytes | None]]:
            outcomes = settle_entries(entries, packed, self)
            decoder = decoders[-1]
            for index in decoder.skipped:
                outcomes[index] = UNCHANGED
            return outcomes, decoder.digests

        d = self._requester.send("system.multicall", body, rtype, decoder=make)
        return d.addCallback(settle)
