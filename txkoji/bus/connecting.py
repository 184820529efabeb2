"""How every transport reports trouble connecting to its broker.

The first connection decides whether :func:`txkoji.bus.subscribe`
succeeds: when it fails (a closed port, an unknown host, refused
credentials, a missing vhost or queue), the subscribe Deferred fails with
:func:`subscribe_error`, naming the broker (without its password) and
what went wrong, in the broker's own words where it gave any.  Once
subscribed, a transport reconnects by itself; each lost connection and
each failed attempt is logged as a WARNING by :func:`warn_reconnect`.
"""

from __future__ import annotations

import logging
from urllib.parse import quote, unquote, urlsplit

from txkoji.exceptions import KojiBusError

log = logging.getLogger("txkoji.bus")


def safe_url(url: str) -> str:
    """``url`` without the password, for messages and logs."""
    scheme, found, rest = url.partition("://")
    userinfo, at, hostpart = rest.rpartition("@")
    if not found or not at:
        return url
    return f"{scheme}://{userinfo.partition(':')[0]}@{hostpart}"


def url_credentials(url: str) -> tuple[str | None, str | None]:
    """Return the (unquoted) user and password a URL carries, each ``None``
    when absent."""
    parts = urlsplit(url)
    user = None if parts.username is None else unquote(parts.username)
    password = None if parts.password is None else unquote(parts.password)
    return user, password


def with_credentials(url: str, user: str | None, password: str | None) -> str:
    """Return ``url`` with ``user`` and ``password`` (when given) in place
    of the ones it carries, quoted as a URL needs."""
    if user is None and password is None:
        return url
    url_user, url_password = url_credentials(url)
    user = url_user if user is None else user
    password = url_password if password is None else password
    scheme, _, rest = url.partition("://")
    hostpart = rest.rpartition("@")[2]
    userinfo = quote(user or "", safe="")
    if password is not None:
        userinfo += ":" + quote(password, safe="")
    return f"{scheme}://{userinfo}@{hostpart}"


def subscribe_error(url: str, reason: str) -> KojiBusError:
    """The error a subscribe Deferred fails with when the first connection
    to the broker at ``url`` failed for ``reason``."""
    return KojiBusError(f"cannot subscribe at {safe_url(url)}: {reason}")


def warn_reconnect(url: str, reason: str, delay: float | None = None) -> None:
    """Log a WARNING: the connection to ``url`` was lost, or an attempt
    to reconnect failed, for ``reason``; the next attempt is in ``delay``
    seconds (when known)."""
    if delay is None:
        log.warning("lost the broker at %s: %s; reconnecting", safe_url(url), reason)
    else:
        log.warning(
            "lost the broker at %s: %s; reconnecting in %.1f s",
            safe_url(url),
            reason,
            delay,
        )
