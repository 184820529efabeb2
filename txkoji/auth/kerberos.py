"""Login with GSSAPI (Kerberos) through pyspnego.

The client builds a Kerberos context for the service ``HTTP@<host>``,
sends its first token preemptively as ``Authorization: Negotiate <token>``
with ``sslLogin`` to ``<server>/ssllogin`` (over https, as the official
client forces), and, when the hub answers with its own
``WWW-Authenticate: Negotiate <token>``, checks that token (mutual
authentication).

Credentials: the default credential cache (after ``kinit``), the
profile's ``principal`` from that cache, ``principal`` + ``keytab``
(tickets fetched from the keytab into memory; no ``kinit`` and no change
to the default cache), or the credential cache the ``ccache`` option names
(``FILE:/tmp/krb5cc_worker``; with ``principal``, that principal's
tickets in it).

A login whose request cannot connect (the hub or a proxy refusing or
dropping the connection) is tried again, as the official client does, up
to ``max_retries`` times, ``retry_interval`` seconds apart (on the
connection's clock), each time with a fresh token.  TLS failures,
refusals and a login that got no answer within ``auth_timeout`` are not
tried again.

The host of the service name follows the profile:
``krb_canon_host`` uses the canonical name DNS gives for the hub's host;
otherwise ``krb_rdns`` (the default) uses the name reverse DNS gives for
its address; with both off the URL's host is used as written.

Getting tickets and DNS lookups block, so they run in the reactor's
thread pool.  Tokens are never logged nor put in messages: pyspnego logs
every token it makes or reads at DEBUG, so :func:`hide_spnego_tokens`
masks them in its records before any handler sees them.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import socket
from collections.abc import Mapping
from typing import Any, cast

from hyperlink import URL
from twisted.internet import defer, threads
from twisted.internet.task import deferLater
from twisted.logger import Logger

from txkoji.auth.errors import (
    KerberosCredentialsError,
    LoginTimedOut,
    LoginUnreachable,
    MutualAuthError,
)
from txkoji.auth.exchange import login_body, login_url, post_login
from txkoji.auth.options import proxy_options
from txkoji.session import Session


def service_host(host: str, *, rdns: bool, canon_host: bool) -> str:
    """Return the host name of the hub's ``HTTP@host`` service principal.

    Blocks on DNS.  A failed lookup keeps ``host``.
    """
    try:
        if canon_host:
            infos = socket.getaddrinfo(host, None, flags=socket.AI_CANONNAME)
            return infos[0][3] or host
        if rdns:
            address = str(socket.getaddrinfo(host, None)[0][4][0])
            return socket.gethostbyaddr(address)[0]
    except OSError:
        pass
    return host


#: A run of base64 as long as a token's shortest part (a Kerberos
#: AP-REQ or AP-REP is hundreds of characters).
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{24,}={0,2}")


class TokenMask(logging.Filter):
    """A logging filter that masks base64 runs (Negotiate tokens) in the
    records of a logger; it lets every record through."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the record's message by its masked text when it held a
        token; always keep the record."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        masked = _BASE64_RUN.sub("<token masked>", message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


_TOKEN_MASK = TokenMask()


def hide_spnego_tokens() -> None:
    """Mask tokens in the records of every ``spnego`` logger (pyspnego's
    modules each log on their own logger, and a logger's filters see only
    its own records).  Safe to call again: each logger gets the filter
    once."""
    for name in list(logging.Logger.manager.loggerDict):
        if name == "spnego" or name.startswith("spnego."):
            logger = logging.getLogger(name)
            if _TOKEN_MASK not in logger.filters:
                logger.addFilter(_TOKEN_MASK)


_log = Logger()


def _credential(principal: str | None, keytab: str | None, ccache: str | None) -> Any:
    """Return what ``spnego.client`` takes as ``username``."""
    import spnego

    if keytab:
        return spnego.KerberosKeytab(os.path.abspath(keytab), principal)
    if ccache:
        return spnego.KerberosCCache(ccache, principal)
    return principal


def _start(
    host: str, principal: str | None, keytab: str | None, ccache: str | None = None
) -> tuple[Any, bytes]:
    """Create the client context and its first token (blocks: may ask the
    KDC for tickets).

    :raises KerberosCredentialsError: when there are no usable credentials.
    """
    try:
        import gssapi
        import krb5
        import spnego
        from spnego.exceptions import SpnegoError
    except ImportError:
        raise KerberosCredentialsError(
            "GSSAPI login needs pyspnego with Kerberos support "
            "(pip install 'txkoji[kerberos]')"
        ) from None
    hide_spnego_tokens()
    who = principal or (
        f"credential cache {ccache}" if ccache else "the default credential cache"
    )
    try:
        context = spnego.client(
            _credential(principal, keytab, ccache),
            hostname=host,
            service="HTTP",
            protocol="kerberos",
            context_req=spnego.ContextReq.mutual_auth,
        )
        # A Kerberos client's first step always yields a token.
        token = cast(bytes, context.step())
    except (SpnegoError, krb5.Krb5Error, gssapi.exceptions.GSSError) as error:
        raise KerberosCredentialsError(
            f"no Kerberos credentials for HTTP@{host} from {who}"
            f"{' with keytab ' + keytab if keytab else ''}: {error}",
            str(error),
        ) from None
    return context, token


def _check_mutual(context: Any, token: bytes | None, server: str) -> None:
    """Verify the hub's Negotiate answer token, when it sent one."""
    if token is None:
        return
    from spnego.exceptions import SpnegoError

    hide_spnego_tokens()
    try:
        context.step(token)
    except SpnegoError as error:
        raise MutualAuthError(
            f"the hub at {server} failed mutual authentication (calling "
            f"sslLogin): {error}",
            str(error),
        ) from None
    if not context.complete:
        raise MutualAuthError(
            f"the hub at {server} sent a Negotiate token that does not "
            "complete the authentication (calling sslLogin)"
        )


def gssapi_login(
    transport: Any,
    config: Mapping[str, Any],
    server: str,
    renewing: Session | None = None,
    extra: Mapping[str, Any] | None = None,
) -> defer.Deferred[Session]:
    """Log in to hub ``server`` with Kerberos.

    :param transport: the connection's transport; the login goes through
        its ``login`` (the hub trusted as for calls, the same proxy), and
        tickets are fetched in the thread pool of its ``reactor``.
    :param config: the profile's options (``principal``, ``keytab``,
        ``ccache``, ``proxyuser``, ``proxyauthtype``, ``krb_rdns``,
        ``krb_canon_host``, ``auth_timeout``, ``max_retries``,
        ``retry_interval``).
    :param renewing: the expired session to renew, if any.
    :param extra: the login call's other keywords (``exclusive``).
    :returns: a Deferred firing with the new :class:`~txkoji.session.Session`.
        It fails with :class:`~txkoji.auth.errors.KerberosCredentialsError`
        without usable credentials, :class:`~txkoji.auth.errors.MutualAuthError`
        when the hub's token does not verify, or another
        :class:`~txkoji.exceptions.KojiLoginException` subclass (see
        :func:`~txkoji.auth.exchange.post_login`); with
        :class:`~txkoji.auth.errors.LoginUnreachable` once the retries of a
        login that cannot connect are used up.
    """
    return defer.Deferred.fromCoroutine(
        _retried_login(transport, config, server, renewing, extra or {})
    )


async def _retried_login(
    transport: Any,
    config: Mapping[str, Any],
    server: str,
    renewing: Session | None,
    extra: Mapping[str, Any],
) -> Session:
    retries = int(config.get("max_retries") or 0)
    interval = float(config.get("retry_interval") or 0)
    tried = 0
    while True:
        try:
            return await _gssapi_login(transport, config, server, renewing, extra)
        except LoginTimedOut:
            raise
        except LoginUnreachable as error:
            if tried >= retries:
                if tried:
                    raise LoginUnreachable(
                        f"{error} (after {tried + 1} attempts, max_retries {retries})",
                        error.reason,
                    ) from None
                raise
            tried += 1
            _log.info(
                "gssapi login failed ({error}); trying again in {interval:g} s "
                "(retry {tried} of {retries})",
                error=str(error),
                interval=interval,
                tried=tried,
                retries=retries,
            )
            await deferLater(transport.clock, interval)


async def _gssapi_login(
    transport: Any,
    config: Mapping[str, Any],
    server: str,
    renewing: Session | None,
    extra: Mapping[str, Any],
) -> Session:
    url = login_url(server, https=True)
    host = URL.from_text(url).host
    reactor = transport.reactor

    def start() -> tuple[Any, bytes]:
        target = service_host(
            host,
            rdns=bool(config.get("krb_rdns", True)),
            canon_host=bool(config.get("krb_canon_host")),
        )
        return _start(
            target, config.get("principal"), config.get("keytab"), config.get("ccache")
        )

    context, token = await threads.deferToThreadPool(
        reactor, reactor.getThreadPool(), start
    )
    headers = {b"Authorization": b"Negotiate " + base64.b64encode(token)}
    if renewing is not None:
        headers.update(renewing.login_headers())
    answer = await post_login(
        transport,
        url,
        login_body(renewing is not None, {**proxy_options(config), **extra}),
        authtype="gssapi",
        timeout=config.get("auth_timeout") or 60,
        headers=headers,
    )
    _check_mutual(context, answer.negotiate, server)
    return Session.from_login(answer.value, "gssapi")
