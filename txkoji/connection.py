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
(:mod:`txkoji.results`).  Every call returns a Deferred.  Its call
interface and session state are :class:`~txkoji.hub_client.HubClient`'s,
shared with its subsessions (:mod:`txkoji.subsession`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.python.failure import Failure

from txkoji import config as koji_config
from txkoji.config import profile_names as profile_names  # re-exported
from txkoji.exceptions import KojiException
from txkoji.hub_client import _LIVE, HubClient
from txkoji.hub_client import BoundHubMethod as BoundHubMethod  # re-exported
from txkoji.proxies import ProxyChoice
from txkoji.requester import Requester, StopError
from txkoji.retry import RetryPolicy
from txkoji.session import session_from_sinfo
from txkoji.session_calls import SessionClient
from txkoji.subsession import SessionPool, SubSession, open_pool
from txkoji.tls import HubTLSPolicy
from txkoji.transport import HubTransport
from txkoji.weblinks import profile_for_web_url


def _fire(outcome: Any, waiter: defer.Deferred[Any]) -> Any:
    """Fire ``waiter`` with ``None``, and pass ``outcome`` on."""
    waiter.callback(None)
    return outcome


def profiles() -> list[str]:
    """Return the koji client config files that exist, most preferred
    first: the user's (``~/.koji/config``, then ``~/.koji/config.d/*.conf``
    from last to first), then the system's (``/etc/koji.conf``, then
    ``/etc/koji.conf.d/*.conf`` from last to first).  As txkoji 0.10's
    ``profiles()``; :func:`profile_names` lists the profiles in them."""
    return [p for p in reversed(koji_config.config_files()) if os.path.isfile(p)]


class Connection(HubClient):
    """A connection to one Koji hub.

    :param profile: the koji client profile to read (section ``[profile]`` of
        the koji config files, found as the official client finds them).
        Optional when ``server`` is given.
    :param config_files: read these files instead of the standard
        locations.
    :param reactor: the reactor to use (default: the global one).
    :param options: profile options overriding the files', e.g.
        ``server="https://koji.example.com/kojihub"``, ``serverca=...``,
        ``timeout=60``, ``max_concurrency=16``; ``proxy="http://proxy:3128"``
        or ``proxy=None`` (no proxy, whatever the environment says; see
        :mod:`txkoji.proxies`).
    :param sinfo: resume a logged-in session instead of logging in: a
        mapping with the ``session-id`` and ``session-key`` (and
        optionally ``header-auth`` and ``callnum``), as the official
        ``ClientSession(sinfo=...)`` takes it and as :attr:`sinfo` gives
        it.  A resumed session cannot renew itself when it expires (it
        has no login to repeat), and ``close()`` logs it out: hand it on
        with :attr:`sinfo`, and let one owner close it.
    :raises KojiConfigError: (also a ``ValueError``) when the profile is
        missing, has no ``server``, or an option is malformed.
    :raises KojiSessionError: when ``sinfo`` lacks a session id or key.
    :raises KojiTLSError: when ``serverca`` cannot be loaded.

    A connection refuses calls, with
    :class:`~txkoji.exceptions.KojiConnectionClosed`, once closed and in a
    forked child of the process that made it (its sockets and session are
    the parent's: the child makes its own, passing ``sinfo`` to share the
    session).
    """

    def __init__(
        self,
        profile: str | None = None,
        *,
        config_files: Sequence[str] | None = None,
        reactor: Any = None,
        transport: Any = None,
        clock: IReactorTime | None = None,
        sinfo: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> None:
        if reactor is None:
            from twisted.internet import reactor
        self.reactor = reactor
        #: What timeouts, retry waits and "now" are measured on (default:
        #: the reactor; tests pass a ``twisted.internet.task.Clock``).
        self.clock: IReactorTime = clock if clock is not None else reactor
        self.config = koji_config.resolve(profile, config_files, options)
        self.profile = profile
        self._url: str = koji_config.hub_url(self.config["server"], profile)
        self.weburl: str | None = self.config["weburl"]
        self.topurl: str | None = self.config["topurl"]
        if transport is None:
            transport = HubTransport(
                reactor,
                HubTLSPolicy(
                    serverca=self.config["serverca"],
                    verify=not self.config["no_ssl_verify"],
                ),
                timeout=self.config["timeout"],
                max_response_size=self.config["max_response_size"],
                max_header_size=self.config["max_header_size"],
                max_connections_per_host=self.config["max_connections_per_host"],
                clock=self.clock,
                proxies=ProxyChoice(self.config["proxy"]),
            )
        self._transport = transport
        self._requester = Requester(
            transport,
            RetryPolicy.from_config(self.config),
            self.clock,
            self.config["max_concurrency"],
            self._url,
        )
        self._session = SessionClient(
            self._requester, self.config, self, self.max_session_batch
        )
        if sinfo is not None:
            self._session.session = session_from_sinfo(sinfo)
        #: Why calls are refused (made from the method name), or ``None``
        #: while the connection is open.
        self._refusal: StopError | None = None
        self._forked = False
        #: Fires once the first close() is done.
        self._closing: defer.Deferred[Any] | None = None
        #: The subsessions open on this connection's session.
        self._subsessions: set[Any] = set()
        _LIVE.add(self)

    @classmethod
    def lookup(cls, profile: str, setting: str) -> Any:
        """Return the value the koji config files give one option of a
        profile, as txkoji 0.10 did: ``None`` when no file has the profile
        or the profile does not set the option (see
        :func:`txkoji.config.profile_option`).

        :raises KojiConfigError: when a file cannot be read, or the value
            is malformed.
        """
        return koji_config.profile_option(profile, setting)

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

    def login(
        self,
        authtype: str | None = None,
        *,
        proxyuser: str | None = None,
        proxyauthtype: str | int | None = None,
        exclusive: bool = False,
        opts: Mapping[str, Any] | None = None,
    ) -> defer.Deferred[Any]:
        """Log in to the hub; later calls carry the session.

        :param authtype: ``"ssl"``, ``"kerberos"`` (also ``"gssapi"``) or
            ``"password"`` (the profile's ``user`` and ``password``); default:
            the profile's ``authtype``, else ``ssl`` when ``cert`` is a
            readable file, else ``password`` when the profile names a
            ``user``, else Kerberos.
        :param proxyuser: log in as this user instead (default: the
            profile's ``proxyuser``): the hub allows it only to the
            certificates and principals it lists as proxies; not with
            ``password``.
        :param proxyauthtype: how the proxied user authenticated,
            ``"ssl"`` or ``"kerberos"`` (default: the profile's).
        :param exclusive: make the session the user's only usable one (the
            hub's ``exclusive=True``); renewals ask for it again.
        :param opts: the password login's ``opts`` (such as ``{"hostip":
            "192.0.2.1"}``, the client address the hub records); only with
            ``password``.
        :returns: a Deferred firing with ``True`` once logged in.  It fails
            with a :class:`~txkoji.exceptions.KojiLoginException` subclass
            (see :mod:`txkoji.auth.errors`), at once and without a request
            for an unsupported ``authtype``, a password login to an
            ``http://`` hub (unless ``allow_password_over_http``), a
            password login with ``proxyuser``, or ``opts`` with another
            login; with :class:`~txkoji.exceptions.KojiConfigError` for a
            malformed ``proxyauthtype``; with
            :class:`~txkoji.exceptions.KojiConnectionClosed` once closed.
            A Kerberos login that cannot connect is tried again as the
            official client does (``max_retries`` times, every
            ``retry_interval`` seconds).
        """
        if self._refusal is not None:
            return defer.fail(self._refusal("the login"))
        options = {"proxyuser": proxyuser, "proxyauthtype": proxyauthtype}
        extra = {"exclusive": True if exclusive else None, "opts": opts}
        return self._session.login(authtype, options, extra)

    def subsession(self) -> defer.Deferred[SubSession]:
        """Open a hub subsession of the logged-in session.

        :returns: a Deferred firing with a logged-in
            :class:`~txkoji.subsession.SubSession`: the same call interface
            as this connection, with its own session id, key and call
            numbers, sending through this connection's transport and pool.
            Its calls are ordered among themselves only, so several
            subsessions make logged-in calls in parallel; its ``close()``
            ends the subsession alone.  This connection's ``logout()`` and
            ``close()`` end its subsessions too: their calls then fail with
            :class:`~txkoji.exceptions.KojiConnectionClosed`.  It fails
            with :class:`~txkoji.exceptions.KojiSessionError` when not
            logged in, with ``KojiConnectionClosed`` once closed, or with
            the ``subsession`` call's error.
        """
        if self._refusal is not None:
            return defer.fail(self._refusal("subsession"))
        d = self._session.open_subsession()
        return d.addCallback(lambda client: SubSession(self, client))

    def session_pool(self, size: int) -> defer.Deferred[SessionPool]:
        """Open ``size`` subsessions and spread calls over them.

        :returns: a Deferred firing with a
            :class:`~txkoji.subsession.SessionPool`: the same call interface
            as this connection, each call going to the subsession with the
            fewest calls in flight; its ``close()`` ends the subsessions.
            It fails with :class:`~txkoji.exceptions.KojiSessionError` when
            not logged in or when ``size`` is not an integer of at least 1
            (before any request), or with the first ``subsession`` call's
            error (the subsessions already opened are closed).
        """
        return open_pool(self, size)

    def _end_subsessions(self, why: str) -> defer.Deferred[Any]:
        """End every subsession locally (the hub ends them with this
        session): their queued and later calls fail.

        :returns: a Deferred firing once their calls in flight are
            answered.
        """
        drained = []
        for sub in list(self._subsessions):
            sub._end(sub._stop_error(why))
            drained.append(sub._session.order.drained())
        return defer.gatherResults(drained)

    def logout(self) -> defer.Deferred[Any]:
        """End the hub session, after the session's calls already made
        (its subsessions' included); its subsessions end with it.

        :returns: a Deferred firing with ``None`` (at once when not logged
            in).  The session is forgotten whatever the hub answers; the
            Deferred fails with the hub's error unless that error says the
            session is already gone (AuthError).
        """
        in_flight = self._end_subsessions("ended when its master logged out")
        return in_flight.addCallback(lambda _: self._session.logout())

    def close(self) -> defer.Deferred[Any]:
        """Close the connection: refuse later calls, fail at once the calls
        still queued or waiting for a retry (an answer under way is still
        delivered, with no retry after it), end the subsessions and pools,
        log out when logged in, then close the pooled HTTP connections.
        Calls then fail with :class:`~txkoji.exceptions.KojiConnectionClosed`.
        In a forked child, only forgets the parent's session and sockets.

        :returns: a Deferred firing with ``None`` when they are closed (a
            failed logout is logged, not raised); a second ``close()`` fires
            once the first is done.
        """
        if self._refusal is not None:
            # Closed already (or inherited by a forked child): wait for the
            # first close() to finish, if it has not.
            waiter: defer.Deferred[Any] = defer.Deferred()
            if self._closing is None or self._closing.called:
                waiter.callback(None)
            else:
                self._closing.addBoth(_fire, waiter)
            return waiter
        error = self._stop_error("was closed")
        self._refusal = error
        closing: defer.Deferred[Any] = defer.Deferred()
        self._closing = closing
        in_flight = self._end_subsessions("was closed with its master")
        self._session.shut(error)
        self._requester.stop_retrying(error)
        # The subsessions' answers under way come before the logout that
        # ends them on the hub.
        d = in_flight.addCallback(lambda _: self._session.logout())

        def logout_failed(failure: Failure) -> None:
            failure.trap(KojiException)
            self.log.warn(
                "logout from {url} failed: {error}", url=self._url, error=failure.value
            )

        d.addErrback(logout_failed)
        d.addCallback(lambda _: self._requester.close(error))
        d.addCallback(lambda _: self._transport.close())
        return d.addBoth(_fire, closing)
