"""The public :class:`Connection` to a Koji hub.

::

    from txkoji import Connection

    koji = Connection("fedora")                 # a koji client profile
    build = yield koji.getBuild("bash-5.2.26-3.fc40")
    user = await koji.getUser("alice")          # any hub method, kwargs too
    yield koji.close()

A connection composes the pieces: the profile's options
(:mod:`txkoji.config`), the codec (:mod:`txkoji.codec`), the HTTP transport
(:mod:`txkoji.transport`) and the result-type registry
(:mod:`txkoji.results`).  Every call returns a Deferred.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from txkoji import config as koji_config
from txkoji.codec import ResponseDecoder, encode_call, pack_params
from txkoji.exceptions import KojiException
from txkoji.multicall import MultiCall
from txkoji.results import ResultType, result_type
from txkoji.retry import RetryPolicy
from txkoji.session import SessionOrder
from txkoji.session_calls import SessionCalls, multicall_body, multicall_type
from txkoji.tls import HubTLSPolicy
from txkoji.transport import HubTransport
from txkoji.weblinks import fetch_from_web, profile_for_web_url


def profiles(files: Sequence[str] | None = None) -> list[str]:
    """Return the names of every koji client profile configured (txkoji
    0.10's ``txkoji.connection.profiles()``)."""
    return koji_config.profiles(files)


def _release(outcome: Any, semaphore: defer.DeferredSemaphore) -> Any:
    semaphore.release()
    return outcome


class HubMethod:
    """A hub method bound to a connection: ``koji.getBuild`` is one; calling
    it calls the hub."""

    __slots__ = ("_connection", "name")

    def __init__(self, connection: Connection, name: str) -> None:
        self._connection = connection
        self.name = name

    def __call__(self, *args: Any, **kwargs: Any) -> defer.Deferred:
        """Call the hub method: see :meth:`Connection.call`."""
        return self._connection.call(self.name, *args, **kwargs)

    def __repr__(self) -> str:
        return f"<hub method {self.name} of {self._connection!r}>"


class Connection:
    """A connection to one Koji hub.

    :param profile: the koji client profile to read (section ``[profile]`` of
        the koji config files, found as the official client finds them).
        Optional when ``server`` is given.
    :param config_files: read these files instead of the standard
        locations.
    :param reactor: the reactor to use (default: the global one).
    :param options: profile options overriding the files', e.g.
        ``server="https://koji.example.com/kojihub"``, ``serverca=...``,
        ``timeout=60``, ``max_concurrency=16``.
    :raises KojiConfigError: (also a ``ValueError``) when the profile is
        missing, has no ``server``, or an option is malformed.
    :raises KojiTLSError: when ``serverca`` cannot be loaded.
    """

    log = Logger()

    #: At most this many calls of a logged-in session go in one multicall
    #: when they queue up behind the request in flight (1: never batch).
    max_session_batch = 100

    def __init__(
        self,
        profile: str | None = None,
        *,
        config_files: Sequence[str] | None = None,
        reactor: Any = None,
        **options: Any,
    ) -> None:
        if reactor is None:
            from twisted.internet import reactor
        self.reactor = reactor
        self.config = koji_config.resolve(profile, config_files, options)
        self.profile = profile
        self.url: str = koji_config.hub_url(self.config["server"], profile)
        self.weburl: str | None = self.config["weburl"]
        self.topurl: str | None = self.config["topurl"]
        self._session_calls = SessionCalls(self, self.max_session_batch)
        self._transport = HubTransport(
            reactor,
            HubTLSPolicy(
                serverca=self.config["serverca"],
                verify=not self.config["no_ssl_verify"],
            ),
            timeout=self.config["timeout"],
            max_response_size=self.config["max_response_size"],
            max_connections_per_host=self.config["max_connections_per_host"],
        )
        self._retry = RetryPolicy.from_config(self.config)
        # Calls beyond max_concurrency wait here in FIFO order; cancelling a
        # waiting call's Deferred takes it out of the queue.
        self._in_flight = defer.DeferredSemaphore(self.config["max_concurrency"])

    @classmethod
    def lookup(cls, profile: str, setting: str) -> Any:
        """Return one option of a koji client profile (txkoji 0.10's
        ``Connection.lookup``).

        :raises KojiConfigError: when the profile or option does not exist.
        """
        return koji_config.lookup(profile, setting)

    @property
    def hub_version(self) -> str | None:
        """The hub's version from its latest answer's ``Koji-Version``
        header, or ``None`` before the first answer."""
        return self._transport.hub_version

    @property
    def transport(self) -> HubTransport:
        """The :class:`~txkoji.transport.HubTransport` this connection sends
        through (its pooled ``agent`` and TLS policy serve file transfers
        too)."""
        return self._transport

    def session_credentials(self, url: str) -> tuple[str, dict[bytes, bytes]] | None:
        """Return ``url`` and the headers naming the logged-in session
        without a call number, for requests that are not numbered calls
        (raw uploads); ``None`` when not logged in."""
        session = self._session_calls.session
        return session.credentials(url, None) if session else None

    @property
    def session_order(self) -> SessionOrder:
        """The :class:`~txkoji.session.SessionOrder` that sends the
        logged-in session's calls (its ``max_batch`` can be tuned; its
        ``requests_sent`` counts requests)."""
        return self._session_calls.order

    @property
    def session_id(self) -> int | None:
        """The hub session's id, or ``None`` when not logged in."""
        session = self._session_calls.session
        return session.session_id if session else None

    @property
    def session_key(self) -> str | None:
        """The hub session's key (a secret), or ``None`` when not logged
        in."""
        session = self._session_calls.session
        return session.key if session else None

    @property
    def callnum(self) -> int | None:
        """The number the session's next call will carry, or ``None`` when
        not logged in."""
        session = self._session_calls.session
        return session.callnum if session else None

    def __getattr__(self, name: str) -> HubMethod:
        if name.startswith("_"):
            raise AttributeError(name)
        return HubMethod(self, name)

    def __reduce__(self) -> Any:
        raise TypeError(
            "a txkoji Connection holds a connection pool and a reactor; it "
            "cannot be copied or pickled (make a new one from the profile)"
        )

    def __repr__(self) -> str:
        name = f"profile {self.profile!r}" if self.profile else self.url
        return f"<txkoji.Connection to {name}>"

    def call(self, method: str, *args: Any, **kwargs: Any) -> defer.Deferred:
        """Call hub method ``method`` with positional and keyword arguments.

        :returns: a Deferred firing with the decoded, typed result (see
            :mod:`txkoji.results`: ``getBuild`` gives a ``Build``, structs
            give ``Munch`` objects).  It fails with the fault's own
            :class:`~txkoji.exceptions.KojiFault` subclass, a
            :class:`~txkoji.exceptions.KojiTransportError` subclass, or
            :class:`~txkoji.exceptions.KojiProtocolError`; with ``TypeError``
            or ``OverflowError`` when an argument cannot be sent.
        """
        try:
            params = pack_params(args, kwargs)
            body = encode_call(method, params)
        except (TypeError, ValueError, OverflowError):
            return defer.fail()
        rtype = result_type(method, params)
        if self._session_calls.session is not None:
            return self._session_calls.call(method, params, body, rtype)
        d = self._send(method, body, rtype)
        d.addCallback(rtype.finish, self)
        return d

    def getTaskInfo(self, task_id: int, **kwargs: Any) -> defer.Deferred:
        """Fetch a task with its request parameters (``request=True`` unless
        told otherwise, as txkoji 0.10 did).

        :returns: a Deferred firing with a :class:`~txkoji.task.Task`, or
            ``None`` when there is no such task.
        """
        kwargs.setdefault("request", True)
        return self.call("getTaskInfo", task_id, **kwargs)

    def from_web(self, url: str) -> defer.Deferred:
        """Fetch the object a kojiweb info page URL shows
        (``buildinfo?buildID=1``, ``taskinfo?taskID=2``, ...).

        :returns: a Deferred firing with the typed record, or ``None`` when
            ``url`` is not such a page or the hub has no such object.  It
            fails as the hub call does.
        """
        return fetch_from_web(self, url)

    @classmethod
    def connect_from_web(
        cls, url: str, config_files: Sequence[str] | None = None, **options: Any
    ) -> Connection | None:
        """Return a connection to the profile whose ``weburl`` prefixes the
        kojiweb ``url``, or ``None`` when no profile matches.

        :param config_files: read these files instead of the standard
            locations.
        :param options: passed on to :class:`Connection`.
        """
        profile = profile_for_web_url(url, config_files)
        if profile is None:
            return None
        return cls(profile, config_files=config_files, **options)

    def MultiCall(self, strict: bool = False, batch: int | None = None) -> MultiCall:
        """Return a new :class:`~txkoji.multicall.MultiCall` on this
        connection."""
        return MultiCall(self, strict=strict, batch=batch)

    def _multicall(self, calls: list[tuple[str, list]]) -> defer.Deferred:
        """Send ``[(method, params), ...]`` as one ``system.multicall``.

        :returns: a Deferred firing with the raw answer entries.
        """
        if self._session_calls.session is not None:
            return self._session_calls.multicall(calls)
        return self._send(
            "system.multicall", multicall_body(calls), multicall_type(calls)
        )

    def _post(
        self,
        method: str,
        body: bytes,
        rtype: ResultType,
        url: str,
        headers: dict[bytes, bytes] | None = None,
    ) -> defer.Deferred:
        """Make one attempt at a request."""
        decoder = ResponseDecoder(method, rtype.record_class, rtype.shape)
        return self._transport.post(url, body, decoder, method=method, headers=headers)

    def _send(self, method: str, body: bytes, rtype: ResultType) -> defer.Deferred:
        post = partial(self._post, method, body, rtype, self.url)

        def attempts() -> defer.Deferred:
            return self._retry.run(post, clock=self.reactor, method=method)

        in_flight = self._in_flight
        if in_flight.tokens and not in_flight.waiting:
            # A free slot and nobody queued: take it without the acquire
            # Deferred (most calls of a connection that is not saturated).
            in_flight.tokens -= 1
            return attempts().addBoth(_release, in_flight)
        return in_flight.run(attempts)

    def login(self, authtype: str | None = None) -> defer.Deferred:
        """Log in to the hub; later calls carry the session.

        :param authtype: ``"ssl"`` or ``"kerberos"`` (also ``"gssapi"``);
            default: the profile's ``authtype``, else ``ssl`` when ``cert``
            is a readable file, else Kerberos.
        :returns: a Deferred firing with ``True`` once logged in.  It fails
            with a :class:`~txkoji.exceptions.KojiLoginException` subclass
            (see :mod:`txkoji.auth.errors`), at once and without a request
            for an unsupported ``authtype``.
        """
        return self._session_calls.login(authtype)

    def logout(self) -> defer.Deferred:
        """End the hub session, after the session's calls already made.

        :returns: a Deferred firing with ``None`` (at once when not logged
            in).  The session is forgotten whatever the hub answers; the
            Deferred fails with the hub's error unless that error says the
            session is already gone (AuthError).
        """
        return self._session_calls.logout()

    def close(self) -> defer.Deferred:
        """Log out when logged in, then close the connection's pooled HTTP
        connections.

        :returns: a Deferred firing with ``None`` when they are closed (a
            failed logout is logged, not raised).
        """
        d = self.logout()

        def logout_failed(failure: Failure) -> None:
            failure.trap(KojiException)
            self.log.warn(
                "logout from {url} failed: {error}", url=self.url, error=failure.value
            )

        d.addErrback(logout_failed)
        d.addCallback(lambda _: self._transport.close())
        return d
