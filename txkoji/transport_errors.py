"""How a failed request to a hub is reported: the txkoji exception a
caller can act on, with the URL's session secrets masked and the hub
method named.

:func:`translate_failure` turns Twisted's connection, TLS and HTTP client
failures into :class:`~txkoji.exceptions.KojiTransportError` subclasses;
:func:`with_timeout` turns a call that ran out of time into
:class:`~txkoji.exceptions.KojiTimeoutError`; :func:`mask_url` hides the
session secrets of a URL.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from OpenSSL import SSL
from service_identity import VerificationError
from twisted.internet import defer
from twisted.internet import error as neterror
from twisted.internet.interfaces import IReactorTime
from twisted.python.failure import Failure
from twisted.web import client as webclient
from twisted.web.iweb import IPolicyForHTTPS, IResponse

from txkoji.exceptions import (
    KojiConnectionError,
    KojiException,
    KojiHTTPError,
    KojiProtocolError,
    KojiTimeoutError,
    KojiTLSAlert,
    KojiTLSError,
)
from txkoji.header_limit import HeadersTooLarge
from txkoji.tls import received_alert

#: Query parameters that carry session secrets (legacy query-string auth).
SECRET_QUERY_KEYS = frozenset({"session-id", "session-key", "callnum"})


def mask_url(url: str) -> str:
    """Return ``url`` with the values of session query parameters masked,
    fit for log lines and error messages."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [
        (key, "***" if key in SECRET_QUERY_KEYS else value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*")))


def reason_text(failure: Failure) -> str:
    """Return what went wrong in ``failure``, for a message: its text, or
    the texts of the failures nested in its ``reasons`` (Twisted's
    ``ResponseNeverReceived`` and kin), or the exception's class name."""
    value = failure.value
    nested = getattr(value, "reasons", None)
    if nested:
        return "; ".join(reason_text(reason) for reason in nested)
    text = str(value) or type(value).__name__
    return text


def find_reason(failure: Failure, *kinds: type) -> Failure | None:
    """Return ``failure``, or the first failure nested in its ``reasons``
    (Twisted's ``ResponseNeverReceived`` and kin), that is one of
    ``kinds``."""
    if failure.check(*kinds):
        return failure
    for reason in getattr(failure.value, "reasons", None) or ():
        found = find_reason(reason, *kinds)
        if found is not None:
            return found
    return None


def http_error(body: str, response: IResponse, url: str, method: str) -> None:
    """Report an answer whose status was not 200.

    :param body: the start of the answer's body.
    :raises KojiHTTPError: always, with the status, the masked ``url``,
        ``method``, and the body's start (or the reason phrase).
    """
    url = mask_url(url)
    phrase = response.phrase.decode("latin-1", "replace")
    detail = body.strip()
    message = (
        f"{url} answered {method or 'the call'} with HTTP {response.code} {phrase}"
    )
    if detail:
        message += f": {detail[:300]}"
    raise KojiHTTPError(
        message,
        url,
        status=response.code,
        reason=detail or phrase,
        method=method or None,
    )


def translate_failure(
    failure: Failure, url: str, method: str, tls_policy: IPolicyForHTTPS
) -> Failure:
    """Turn a failed request into the txkoji exception a caller can act on.

    :param url: the URL requested (masked here before it is shown).
    :param method: the hub method, for the message.
    :param tls_policy: asked why a hub certificate was refused.
    :returns: ``failure`` itself when it already is a txkoji exception or a
        cancellation.
    :raises KojiTLSError: for TLS failures, with the reason when known.
    :raises KojiConnectionError: for refused, failed and lost connections.
    :raises KojiProtocolError: for an answer whose headers were too large.
    """
    if failure.check(KojiException):
        return failure
    cancelled = find_reason(failure, defer.CancelledError)
    if cancelled is not None:
        return cancelled
    host = urlsplit(url).hostname or ""
    url = mask_url(url)
    called = method or None
    too_large = find_reason(failure, HeadersTooLarge)
    if too_large is not None:
        raise KojiProtocolError(
            f"the answer to {method or 'the call'} from {url} has more than "
            f"{cast(HeadersTooLarge, too_large.value).limit} bytes of headers "
            "(max_header_size)",
            called,
        )
    tls = find_reason(failure, SSL.Error)
    if tls is not None:
        explain = getattr(tls_policy, "verify_problem", None)
        problem = explain(host.encode("idna")) if explain else None
        detail = f"the hub's certificate {problem}" if problem else reason_text(tls)
        raise KojiTLSError(f"TLS with {url} failed: {detail}", url, called)
    mismatch = find_reason(failure, VerificationError)
    if mismatch is not None:
        raise KojiTLSError(
            f"TLS with {url} failed: the hub's certificate is not issued for "
            f"{host} ({reason_text(mismatch)})",
            url,
            called,
        )
    calling = f" (calling {method})" if method else ""
    if failure.check(neterror.ConnectionRefusedError):
        raise KojiConnectionError(f"{url} refused the connection{calling}", url, called)
    if failure.check(neterror.DNSLookupError):
        raise KojiConnectionError(
            f"cannot resolve the host of {url}{calling}: {reason_text(failure)}",
            url,
            called,
        )
    if failure.check(neterror.TimeoutError):
        raise KojiConnectionError(
            f"connecting to {url} timed out{calling}", url, called
        )
    if failure.check(
        neterror.ConnectError,
        webclient.ResponseNeverReceived,
        webclient.RequestTransmissionFailed,
        webclient.ResponseFailed,
        neterror.ConnectionLost,
        neterror.ConnectionDone,
    ):
        raise KojiConnectionError(
            f"the connection to {url} failed during {method or 'the call'}: "
            f"{reason_text(failure)}",
            url,
            called,
        )
    return failure


def translate_login_failure(
    failure: Failure, url: str, tls_policy: IPolicyForHTTPS
) -> Failure:
    """Translate a failed login request as :func:`translate_failure` does,
    telling a handshake the hub ended with an alert (``KojiTLSAlert``) by
    the reason of the OpenSSL error, not by its message."""
    tls = find_reason(failure, SSL.Error)
    alert = received_alert(cast(SSL.Error, tls.value)) if tls is not None else None
    try:
        return translate_failure(failure, url, "the login", tls_policy)
    except KojiTLSError as error:
        if alert is None:
            raise
        raise KojiTLSAlert(str(error), error.url, error.method, alert) from None


def with_timeout(
    result: defer.Deferred[Any],
    clock: IReactorTime,
    timeout: float,
    url: str,
    method: str,
) -> None:
    """Cancel ``result`` when it has not fired within ``timeout`` seconds of
    ``clock``, and make it fail with ``KojiTimeoutError`` (naming ``method``
    and the masked ``url``) instead of ``CancelledError`` then."""
    timed_out = []

    def expire() -> None:
        timed_out.append(True)
        result.cancel()

    delayed = clock.callLater(timeout, expire)

    def done(outcome: Any) -> Any:
        if delayed.active():
            delayed.cancel()
        if (
            timed_out
            and isinstance(outcome, Failure)
            and outcome.check(defer.CancelledError)
        ):
            shown = mask_url(url)
            raise KojiTimeoutError(
                f"{method or 'the call'} to {shown} took longer than "
                f"{timeout:g} s (the timeout option)",
                shown,
                method or None,
            )
        return outcome

    result.addBoth(done)
