"""The options of a koji client profile: every option txkoji knows, its
default, its kind, and how a value read from a file or given as a keyword
is checked and converted (:func:`convert_option`).

Every problem is a :class:`~txkoji.exceptions.KojiConfigError` that names
the profile, the option and where the value came from (a password's value
is never shown).
"""

from __future__ import annotations

import configparser
import math
import os
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from txkoji.exceptions import KojiConfigError

DEFAULTS: dict[str, Any] = {
    "server": "http://localhost/kojihub",
    "weburl": "http://localhost/koji",
    "topurl": None,
    "pkgurl": None,
    "topdir": "/mnt/koji",
    "max_retries": 30,
    "retry_interval": 20,
    "anon_retry": False,
    "offline_retry": False,
    "offline_retry_interval": 20,
    "timeout": 60 * 60 * 12,
    "auth_timeout": 60,
    "use_fast_upload": True,
    "upload_blocksize": 1048576,
    "poll_interval": 6,
    "principal": None,
    "keytab": None,
    "ccache": None,
    "cert": None,
    "serverca": None,
    "no_ssl_verify": False,
    "authtype": None,
    "user": None,
    "password": None,
    "allow_password_over_http": False,
    "proxyuser": None,
    "proxyauthtype": None,
    "debug": False,
    "debug_xmlrpc": False,
    "force_auth": False,
    "plugin_paths": None,
    "pyver": None,
    "krb_rdns": True,
    "krb_canon_host": False,
    "krb_server_realm": None,
    "max_concurrency": 16,
    "max_response_size": 1024 * 1024 * 1024,
    "max_connections_per_host": 16,
    "max_header_size": 64 * 1024,
    "proxy": "environment",
}
"""Every option txkoji knows, with the value a profile gets when no file
sets it.  ``server`` is listed for completeness, but a profile must set it."""

BOOLEAN_OPTIONS: frozenset[str] = frozenset(
    {
        "anon_retry",
        "offline_retry",
        "use_fast_upload",
        "debug",
        "debug_xmlrpc",
        "force_auth",
        "no_ssl_verify",
        "krb_rdns",
        "krb_canon_host",
        "allow_password_over_http",
    }
)
"""Options read as booleans (``yes``/``no``, ``true``/``false``,
``on``/``off``, ``1``/``0``, in any case)."""

INTEGER_OPTIONS: frozenset[str] = frozenset(
    {
        "max_retries",
        "upload_blocksize",
        "pyver",
        "max_concurrency",
        "max_response_size",
        "max_connections_per_host",
        "max_header_size",
    }
)
"""Options read as integers."""

POSITIVE_OPTIONS: frozenset[str] = frozenset(
    {
        "upload_blocksize",
        "max_concurrency",
        "max_response_size",
        "max_connections_per_host",
        "max_header_size",
    }
)
"""Integer options that must be at least 1."""

NON_NEGATIVE_OPTIONS: frozenset[str] = frozenset({"max_retries"})
"""Integer options that must be at least 0."""

SECONDS_OPTIONS: frozenset[str] = frozenset(
    {
        "retry_interval",
        "offline_retry_interval",
        "poll_interval",
        "timeout",
        "auth_timeout",
    }
)
"""Options holding a duration in seconds: a finite number of at least 0,
kept as an int when written as one (``30``), else a float (``2.5``)."""

PROXY_AUTHTYPES: dict[str, int] = {"ssl": 2, "kerberos": 3, "gssapi": 3}
"""The values ``proxyauthtype`` takes, by name, and the hub's number for
each (Koji's ``AUTHTYPES``: 2 = SSL, 3 = GSSAPI); the option reads as that
number, and the numbers are accepted too."""

SECRET_OPTIONS: frozenset[str] = frozenset({"password"})
"""Options whose value no message or ``repr`` ever shows."""

PATH_OPTIONS: frozenset[str] = frozenset({"cert", "serverca", "keytab", "topdir"})
"""Options holding one file system path; a leading ``~`` is expanded."""

PATH_LIST_OPTIONS: frozenset[str] = frozenset({"plugin_paths"})
"""Options holding ``:``-separated paths; each entry's ``~`` is expanded."""

USER_DEFAULT_FILES: dict[str, str] = {
    "cert": "client.crt",
    "serverca": "serverca.crt",
}
"""Options that default to a file in ``~/.koji`` when that file exists."""

EXTRA_OPTION_PREFIX = "x_"
"""Keyword options starting with this prefix are accepted as they are
(anything else unknown to :data:`DEFAULTS` is taken for a typo)."""

#: Where keyword options come from, in messages.
KEYWORDS = "keyword arguments"


def home_dir(home: str | os.PathLike[str] | None) -> str:
    """Return ``home``, or the user's home directory when it is None."""
    return os.path.expanduser("~") if home is None else os.fspath(home)


def expand_user(path: str, home: str | os.PathLike[str] | None) -> str:
    """Return ``path`` with a leading ``~`` expanded (to ``home`` when
    given)."""
    if home is not None and (path == "~" or path.startswith("~/")):
        return os.fspath(home) + path[1:]
    return os.path.expanduser(path)


def keyword_options(options: Mapping[str, Any]) -> dict[str, tuple[Any, str]]:
    """Return keyword ``options`` as (value, source) pairs, as raw options
    read from a file are.

    :raises KojiConfigError: for a name that is not an option and does not
        start with :data:`EXTRA_OPTION_PREFIX`.
    """
    unknown = sorted(
        name
        for name in options
        if name not in DEFAULTS and not name.startswith(EXTRA_OPTION_PREFIX)
    )
    if unknown:
        raise KojiConfigError(
            f"unknown koji option(s): {', '.join(unknown)} (options of your own "
            f"must start with {EXTRA_OPTION_PREFIX!r})"
        )
    return {name: (value, KEYWORDS) for name, value in options.items()}


def _integer(value: Any) -> int | None:
    """Return ``value`` as an int (from an int or its decimal text), or
    None when it is neither."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _seconds(value: Any) -> int | float | None:
    """Return ``value`` as a finite int or float (from a number or its
    text), or None when it is neither."""
    number = _integer(value)
    if number is not None:
        return number
    if isinstance(value, float):
        seconds = value
    elif isinstance(value, str):
        try:
            seconds = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return seconds if math.isfinite(seconds) else None


def option_owner(profile: str | None) -> str:
    """Return what messages call the options' owner: ``profile 'x'``, or
    ``configuration`` without a profile name."""
    return "configuration" if profile is None else f"profile {profile!r}"


def convert_option(
    name: str,
    value: Any,
    profile: str | None,
    source: str,
    home: str | os.PathLike[str] | None,
) -> Any:
    """Return option ``name``'s ``value`` checked and converted to its kind
    (boolean, integer, seconds, ``proxyauthtype`` number, path with ``~``
    expanded against ``home``, string); unknown options are kept as given.

    :param source: the file the value came from, or :data:`KEYWORDS`.
    :raises KojiConfigError: for a malformed value, naming ``profile``, the
        option and ``source`` (a secret's value hidden).
    """

    def bad(expected: str) -> NoReturn:
        where = source if source == KEYWORDS else f"file {source}"
        shown = "(hidden)" if name in SECRET_OPTIONS else repr(value)
        raise KojiConfigError(
            f"{option_owner(profile)}: option {name!r} has bad value {shown} "
            f"in {where} (expected {expected})"
        )

    if name in BOOLEAN_OPTIONS:
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            state = configparser.RawConfigParser.BOOLEAN_STATES.get(value.lower())
            if state is not None:
                return state
        bad("a boolean: yes/no, true/false, on/off or 1/0")
    if name in INTEGER_OPTIONS:
        number = _integer(value)
        if number is None:
            bad("an integer")
        if name in POSITIVE_OPTIONS and number < 1:
            bad("an integer of at least 1")
        if name in NON_NEGATIVE_OPTIONS and number < 0:
            bad("an integer of at least 0")
        return number
    if name in SECONDS_OPTIONS:
        seconds = _seconds(value)
        if seconds is None or seconds < 0:
            bad("a number of seconds, at least 0")
        return seconds
    if name not in DEFAULTS or value is None:
        return value
    if name == "proxyauthtype":
        return _proxy_authtype(value, bad)
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        bad("a string")
    if name in PATH_OPTIONS:
        return expand_user(value, home)
    if name in PATH_LIST_OPTIONS:
        return ":".join(expand_user(p, home) for p in value.split(":"))
    return value


def _proxy_authtype(value: Any, bad: Callable[[str], NoReturn]) -> int:
    """Return the hub's number for a ``proxyauthtype`` value."""
    if isinstance(value, str):
        name = value.strip().lower()
        value = int(name) if name.isdigit() else PROXY_AUTHTYPES.get(name)
    if not isinstance(value, bool) and value in PROXY_AUTHTYPES.values():
        return int(value)
    bad(
        ", ".join(PROXY_AUTHTYPES)
        + " or their numbers "
        + ", ".join(str(n) for n in sorted(set(PROXY_AUTHTYPES.values())))
    )
