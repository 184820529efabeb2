"""Hub subsessions, and pools of them.

::

    await koji.login()
    sub = await koji.subsession()       # its own session id, key, numbers
    await sub.getLoggedInUser()
    await sub.close()                   # logoutChild: ends this one only

    pool = await koji.session_pool(4)   # four subsessions
    tasks = await defer.gatherResults([pool.getTaskInfo(t) for t in ids])
    await pool.close()

The hub numbers the calls of each session and takes them one at a time
(see :mod:`txkoji.session`), so one session's logged-in calls never run in
parallel.  A subsession (the hub's ``subsession`` call) is a session of the
same user with its own numbering: calls of different subsessions are not
ordered against each other, and travel in parallel over the connection's
shared pool of HTTP connections.

A subsession renews itself like its master (the same login, with
``renew=True`` and the subsession's own id).  Logging out of the master, or
its expiry, ends or expires its subsessions on the hub as well.

A subsession exists for logged-in work only: once it is closed, or its
master logged out or closed, its calls (queued ones included) fail at once
with :class:`~txkoji.exceptions.KojiConnectionClosed`; it never goes on
anonymously.  A closed pool refuses calls the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from twisted.internet import defer
from twisted.python.failure import Failure

from txkoji.exceptions import (
    KojiConnectionClosed,
    KojiException,
    KojiLoginException,
    KojiSessionError,
)
from txkoji.hub_client import _LIVE, BoundHubMethod, HubClient
from txkoji.hub_methods import HubMethods
from txkoji.multicall import MultiCall
from txkoji.session import Session
from txkoji.session_calls import SessionClient


class Master(Protocol):
    """What a subsession needs of the connection whose session made it (a
    :class:`~txkoji.connection.Connection`)."""

    _subsessions: set[Any]

    @property
    def session(self) -> Session | None:
        """The master's logged-in session."""

    def call(self, method: str, *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
        """Call a hub method in the master's session."""

    def subsession(self) -> defer.Deferred[Any]:
        """Open another subsession of the master's session."""

    def session_pool(self, size: int) -> defer.Deferred[Any]:
        """Open a pool of subsessions of the master's session."""


class SubSession(HubClient):
    """A logged-in hub subsession of a :class:`~txkoji.connection.Connection`
    (made by :meth:`~txkoji.connection.Connection.subsession`).

    It has the connection's call interface and session state (a
    :class:`~txkoji.hub_client.HubClient`: ``call``, ``multicall``,
    ``MultiCall``, hub methods by name, ``session_id``, ``sinfo``...) and
    shares its transport, its concurrency limit and its options.
    ``login()`` fails: a subsession is logged in from the start.

    :param master: the connection whose session made this one.
    :param client: the subsession's calls and credentials.
    """

    def __init__(self, master: Master, client: SessionClient) -> None:
        # Everything but the session (and the cache, made on first use for
        # this object) is the master's: reactor, options, transport, the
        # requester with its concurrency limit.
        shared = {
            name: value
            for name, value in vars(master).items()
            if name not in ("cache", "_subsessions")
        }
        vars(self).update(shared)
        self._master = master
        self._session = client
        client.owner = self
        assert client.session is not None
        #: The id the hub gave the subsession (a fresh login on a hub that
        #: cannot renew replaces it with a session of its own).
        self._child_id = client.session.session_id
        master._subsessions.add(self)
        _LIVE.add(self)

    @property
    def master(self) -> Master:
        """The connection whose session this subsession belongs to."""
        return self._master

    def __repr__(self) -> str:
        return f"<txkoji subsession {self._child_id} of {self._master!r}>"

    def _end(self, error: Any) -> None:
        """End the subsession here (the hub ended it, or is about to):
        queued and later calls fail with ``error(method)``."""
        self._refusal = error
        self._session.shut(error)
        self._session.session = None
        self._master._subsessions.discard(self)

    def login(self, authtype: str | None = None, **options: Any) -> defer.Deferred[Any]:
        """Fail with :class:`~txkoji.exceptions.KojiLoginException`: a
        subsession is logged in when made."""
        return defer.fail(
            KojiLoginException("a subsession is logged in already; it cannot log in")
        )

    def subsession(self) -> defer.Deferred[Any]:
        """Open another subsession of the master (the hub ties every
        subsession to the first session): see
        :meth:`~txkoji.connection.Connection.subsession`."""
        return self._master.subsession()

    def session_pool(self, size: int) -> defer.Deferred[Any]:
        """Open a pool of the master's subsessions: see
        :meth:`~txkoji.connection.Connection.session_pool`."""
        return self._master.session_pool(size)

    def logout(self) -> defer.Deferred[Any]:
        """End the subsession alone: the master sends ``logoutChild`` once
        the subsession's calls in flight are answered.  Its calls still
        queued, and every later call, fail at once with
        :class:`~txkoji.exceptions.KojiConnectionClosed`.

        :returns: a Deferred firing with ``None`` (at once when already
            ended).  The subsession is forgotten whatever the hub answers;
            it fails with the hub's error unless that error says the session
            is gone already (AuthError).
        """
        client = self._session
        session = client.session
        if self._refusal is None:
            self._refusal = self._stop_error("was closed")
            client.shut(self._refusal)
        self._master._subsessions.discard(self)
        if session is None:
            return defer.succeed(None)
        if session.session_id != self._child_id:
            # A fresh login replaced the subsession: end that session.
            return client.logout()
        if self._master.session is None:
            # The master's logout ended its subsessions on the hub.
            d: defer.Deferred[Any] = defer.succeed(None)
        else:
            # In this subsession's order, so after its calls in flight.
            d = client.order.submit(
                "logoutChild",
                None,
                0,
                lambda: self._master.call("logoutChild", session.session_id),
            )
        return d.addBoth(client.forget, session)

    def close(self) -> defer.Deferred[Any]:
        """End the subsession (:meth:`logout`); the shared transport stays
        open (the master's ``close()`` closes it).

        :returns: a Deferred firing with ``None`` (a failed logout is
            logged, not raised).
        """
        d = self.logout()

        def logout_failed(failure: Failure) -> None:
            failure.trap(KojiException)
            self.log.warn(
                "ending subsession {session_id} failed: {error}",
                session_id=self._child_id,
                error=failure.value,
            )

        return d.addErrback(logout_failed)


class SessionPool(HubMethods):
    """Logged-in calls spread over several subsessions (made by
    :meth:`~txkoji.connection.Connection.session_pool`).

    Each call goes to the subsession with the fewest calls in flight (the
    first such one on a tie).  The call interface is the connection's:
    ``call``, ``multicall``, ``MultiCall``, ``getTaskInfo``, the hub
    methods by name; typed results belong to the subsession that fetched
    them.

    :param members: the subsessions.
    """

    def __init__(self, members: Sequence[SubSession]) -> None:
        self.members: tuple[SubSession, ...] = tuple(members)
        self._load = {id(member): 0 for member in self.members}
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether the pool refuses calls: closed, or every member ended
        (with their master's ``close()`` or ``logout()``)."""
        return self._closed or all(member.closed for member in self.members)

    def __repr__(self) -> str:
        return f"<txkoji session pool of {len(self.members)} subsessions>"

    def __len__(self) -> int:
        return len(self.members)

    def __getattr__(self, name: str) -> BoundHubMethod:
        if name.startswith("_"):
            raise AttributeError(name)
        return BoundHubMethod(self, name)

    def load(self, member: SubSession) -> int:
        """Return how many calls of the pool ``member`` has in flight."""
        return self._load[id(member)]

    def _run(
        self, method: str, send: Callable[[SubSession], defer.Deferred[Any]]
    ) -> Any:
        if self._closed:
            return defer.fail(
                KojiConnectionClosed(
                    f"cannot call {method}: {self!r} was closed", method=method
                )
            )
        member = min(self.members, key=self.load)
        self._load[id(member)] += 1

        def done(outcome: Any) -> Any:
            self._load[id(member)] -= 1
            return outcome

        return send(member).addBoth(done)

    def call(self, method: str, *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
        """Call hub method ``method`` on the least-loaded subsession: see
        :meth:`txkoji.connection.Connection.call`."""
        return self._run(method, lambda member: member.call(method, *args, **kwargs))

    def getTaskInfo(self, task_id: int, **kwargs: Any) -> defer.Deferred[Any]:
        """Fetch a task with its request parameters: see
        :meth:`txkoji.connection.Connection.getTaskInfo`."""
        return self._run(
            "getTaskInfo", lambda member: member.getTaskInfo(task_id, **kwargs)
        )

    def multicall(self, calls: Sequence[tuple[Any, ...]]) -> defer.Deferred[list[Any]]:
        """Send several calls as one multicall on the least-loaded
        subsession: see :meth:`txkoji.connection.Connection.multicall`."""
        return self._run("system.multicall", lambda member: member.multicall(calls))

    def MultiCall(self, strict: bool = False, batch: int | None = None) -> MultiCall:
        """Return a new :class:`~txkoji.multicall.MultiCall` whose requests
        go to the least-loaded subsession."""
        return MultiCall(self, strict=strict, batch=batch)

    def close(self) -> defer.Deferred[None]:
        """End every subsession of the pool; later calls fail at once with
        :class:`~txkoji.exceptions.KojiConnectionClosed`.

        :returns: a Deferred firing with ``None`` once each has ended (a
            failed logout is logged, not raised).
        """
        self._closed = True
        ends = [member.close() for member in self.members]
        return defer.gatherResults(ends).addCallback(lambda _: None)


async def _open_members(master: Master, size: int) -> SessionPool:
    members: list[SubSession] = []
    try:
        for _ in range(size):
            members.append(await master.subsession())
    except BaseException:
        await SessionPool(members).close()
        raise
    return SessionPool(members)


def open_pool(master: Master, size: int) -> defer.Deferred[SessionPool]:
    """Open ``size`` subsessions of ``master`` and pool them (see
    :meth:`txkoji.connection.Connection.session_pool`)."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        return defer.fail(
            KojiSessionError(
                f"a session pool needs a whole number of subsessions of at "
                f"least 1, not {size!r}"
            )
        )
    if master.session is None:
        return defer.fail(
            KojiSessionError("a session pool needs a logged-in connection")
        )
    return defer.Deferred.fromCoroutine(_open_members(master, size))
