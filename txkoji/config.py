"""Koji client configuration: files, profiles, option types and defaults.

Profiles are read the way the official ``koji`` client reads them.  The
files, later ones overriding earlier ones option by option::

    /etc/koji.conf.d/*.conf     (sorted by name)
    /etc/koji.conf
    ~/.koji/config.d/*.conf     (sorted by name)
    ~/.koji/config

Each file is INI; a section is a profile (``[koji]``, ``[fedora]``...).
Values are read raw, so a ``%`` in a URL stays as written.  A ``[DEFAULT]``
section supplies options to every profile, as configparser does, and a
profile's own options win over it whatever the file order.

::

    cfg = read_config("fedora")
    cfg.server                  # "https://koji.fedoraproject.org/kojihub"
    cfg["timeout"]              # 43200, an int
    cfg = from_options(server="https://koji.example.com/kojihub", timeout="60")

Every problem is a :class:`~txkoji.exceptions.KojiConfigError` (also a
``ValueError``) that names the profile and the file involved.
"""

from __future__ import annotations

import configparser
import math
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import SplitResult, urlsplit

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

_DEFAULT_SECTION = "DEFAULT"
_KEYWORDS = "keyword arguments"


class ProfileConfig(Mapping[str, Any]):
    """The options a profile resolves to: a read-only mapping of option name
    to typed value, holding every option of :data:`DEFAULTS` plus any
    unknown option the files set (kept as a string).

    Options are also attributes: ``cfg.server`` is ``cfg["server"]``.

    :param profile: the profile's name, or ``None``.
    :param options: option name to already typed value (the functions of
        this module build these; see :func:`read_config`).
    :param files: the files the options came from.

    :ivar profile: the profile's name, or ``None`` for a configuration built
        by :func:`from_options` without one.
    :ivar files: the files that supplied at least one option, in reading
        order.
    """

    __slots__ = ("_options", "profile", "files")

    def __init__(
        self,
        profile: str | None,
        options: Mapping[str, Any],
        files: Sequence[str] = (),
    ) -> None:
        object.__setattr__(self, "_options", dict(options))
        object.__setattr__(self, "profile", profile)
        object.__setattr__(self, "files", tuple(files))

    def __getitem__(self, name: str) -> Any:
        return self._options[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._options)

    def __len__(self) -> int:
        return len(self._options)

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("_"):
            try:
                return self._options[name]
            except KeyError:
                pass
        raise AttributeError(f"{type(self).__name__} has no option {name!r}")

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def with_options(self, **options: Any) -> ProfileConfig:
        """Return a copy with ``options`` on top, checked and converted as
        keyword options are (``None`` values are skipped).

        :raises KojiConfigError: for an unknown option or a malformed
            value.
        """
        given = {name: value for name, value in options.items() if value is not None}
        merged = dict(self._options)
        for name, (value, source) in _keyword_options(given).items():
            merged[name] = _convert(name, value, self.profile, source, None)
        return ProfileConfig(self.profile, merged, self.files)

    def __repr__(self) -> str:
        server = self._options.get("server")
        if isinstance(server, str):
            server = mask_userinfo(server)
        return f"<{type(self).__name__} profile={self.profile!r} server={server!r}>"


def _split(url: str) -> SplitResult | None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return None
    return parts


#: The user info of a URL: whatever precedes the last ``@`` of the part
#: after ``//``.
_USERINFO = re.compile(r"(?<=//)[^/?#]*@")


def mask_userinfo(url: str) -> str:
    """Return ``url`` with its user info (``user:password@``) masked, fit
    for messages."""
    return _USERINFO.sub("***@", url, count=1)


def hub_url(server: Any, profile: str | None) -> str:
    """Return a profile's ``server`` when it is an http(s) URL with a host
    and no user info.

    :raises KojiConfigError: naming the profile and the value (its password
        masked) otherwise.
    """
    where = f"profile {profile!r}" if profile else "the options given"
    parts = _split(server) if isinstance(server, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        shown = mask_userinfo(server) if isinstance(server, str) else server
        raise KojiConfigError(
            f"server {shown!r} in {where} is not an http:// or https:// URL "
            "with a host, e.g. https://koji.example.com/kojihub"
        )
    if parts.username is not None or parts.password is not None:
        raise KojiConfigError(
            f"server {mask_userinfo(server)!r} in {where} holds user info "
            "(user:password@): a password there would leak into logs; remove "
            "it (for a password login, use the user and password options)"
        )
    return server


@dataclass(frozen=True)
class _ConfigFile:
    """One file as read: its sections' own options, ``DEFAULT`` included
    as a plain section."""

    path: str
    exists: bool
    sections: dict[str, dict[str, str]]


def config_files(
    user_config: str | os.PathLike[str] | None = None,
    system_dir: str | os.PathLike[str] = "/etc",
    home: str | os.PathLike[str] | None = None,
) -> list[str]:
    """Return the files the official koji client would read, in order.

    The ``*.conf`` files of the ``koji.conf.d`` directories are listed only
    when they exist (sorted by name); the fixed files are always listed,
    and readers skip the ones that do not exist.

    :param user_config: one file to read instead of ``~/.koji/config.d/``
        and ``~/.koji/config`` (``~`` is expanded).
    :param system_dir: where ``koji.conf`` and ``koji.conf.d`` live.
    :param home: the home directory (default: the user's).
    """
    system_dir = os.fspath(system_dir)
    found = _conf_dir_files(os.path.join(system_dir, "koji.conf.d"))
    found.append(os.path.join(system_dir, "koji.conf"))
    if user_config is not None:
        found.append(_expand_user(os.fspath(user_config), home))
    else:
        user_dir = os.path.join(_home_dir(home), ".koji")
        found.extend(_conf_dir_files(os.path.join(user_dir, "config.d")))
        found.append(os.path.join(user_dir, "config"))
    return found


def read_config(
    profile: str,
    files: Sequence[str | os.PathLike[str]] | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    user_config: str | os.PathLike[str] | None = None,
    system_dir: str | os.PathLike[str] = "/etc",
    home: str | os.PathLike[str] | None = None,
) -> ProfileConfig:
    """Read one profile from the koji config files.

    :param profile: the section to read.
    :param files: read exactly these files (missing ones are skipped)
        instead of the :func:`config_files` search.
    :param overrides: options that win over the files', checked and
        converted as :func:`from_options` does.
    :param user_config: as for :func:`config_files`.
    :param system_dir: as for :func:`config_files`.
    :param home: the home directory, for ``~`` and the ``cert`` /
        ``serverca`` defaults (default: the user's).
    :returns: the profile's typed options.  ``cert`` and ``serverca``
        default to ``~/.koji/client.crt`` and ``~/.koji/serverca.crt`` when
        those files exist.
    :raises KojiConfigError: when a file cannot be parsed, no file has the
        profile, the profile has no ``server``, or a value is malformed.
    """
    read = _read_all(files, user_config, system_dir, home)
    if not any(profile in f.sections for f in read):
        raise KojiConfigError(
            f"no configuration for profile name: {profile} (searched {_describe(read)})"
        )
    raw = _raw_options(read, profile)
    home_dir = _home_dir(home)
    for name, filename in USER_DEFAULT_FILES.items():
        candidate = os.path.join(home_dir, ".koji", filename)
        if name not in raw and os.path.isfile(candidate):
            raw[name] = (candidate, candidate)
    if overrides:
        raw.update(_keyword_options(overrides))
    files_used = [f.path for f in read if any(src == f.path for _, src in raw.values())]
    return _build(profile, raw, files_used, home, f"files searched: {_describe(read)}")


def from_options(profile: str | None = None, **options: Any) -> ProfileConfig:
    """Build a configuration from keyword options alone, reading no file.

    Values are checked and converted as file values are, so
    ``from_options(server="https://koji.example.com/kojihub", timeout="30")``
    gives ``timeout`` 30.  Nothing is taken from ``~/.koji``: no ``cert`` or
    ``serverca`` default.

    :param profile: a name for the configuration (used in messages and as
        :attr:`ProfileConfig.profile`).
    :param options: option values; ``server`` is required.  Names not in
        :data:`DEFAULTS` must start with ``x_`` and are kept as given.
    :raises KojiConfigError: for an unknown option name, a malformed value,
        or no ``server``.
    """
    return _build(profile, _keyword_options(options), (), None, "no files read")


def resolve(
    profile: str | None,
    files: Sequence[str | os.PathLike[str]] | None = None,
    options: Mapping[str, Any] | None = None,
    **search: Any,
) -> ProfileConfig:
    """Return a profile's options with ``options`` on top, or, when
    ``profile`` is ``None``, a configuration from ``options`` alone.

    :param profile: the profile to read, or ``None`` to read no file.
    :param files: as for :func:`read_config`.
    :param options: keyword options, as for :func:`from_options`.
    :param search: ``user_config``, ``system_dir`` or ``home``, as for
        :func:`read_config`.
    :raises KojiConfigError: as :func:`read_config` and
        :func:`from_options` do.
    """
    if profile is None:
        return from_options(None, **(options or {}))
    return read_config(profile, files, overrides=options, **search)


def profile_names(
    files: Sequence[str | os.PathLike[str]] | None = None,
    *,
    user_config: str | os.PathLike[str] | None = None,
    system_dir: str | os.PathLike[str] = "/etc",
    home: str | os.PathLike[str] | None = None,
) -> list[str]:
    """Return the name of every profile in the config files, sorted, each
    once.  (txkoji 0.10 had no such function; its
    ``txkoji.connection.profiles()`` lists the files themselves.)

    Arguments are as for :func:`read_config`.

    :raises KojiConfigError: when a file cannot be parsed.
    """
    names = {
        name
        for f in _read_all(files, user_config, system_dir, home)
        for name in f.sections
        if name != _DEFAULT_SECTION
    }
    return sorted(names)


def profile_option(
    profile: str,
    setting: str,
    files: Sequence[str | os.PathLike[str]] | None = None,
    *,
    user_config: str | os.PathLike[str] | None = None,
    system_dir: str | os.PathLike[str] = "/etc",
    home: str | os.PathLike[str] | None = None,
) -> Any:
    """Return the value the config files give one option of a profile, as
    txkoji 0.10's ``Connection.lookup`` did: no default, and the profile's
    other options are not checked.

    Arguments are as for :func:`read_config`.

    :returns: the value, converted as :func:`read_config` converts it
        (booleans, integers, ``~`` expanded), or ``None`` when no file has
        the profile or the profile (with ``DEFAULT``) does not set
        ``setting``.
    :raises KojiConfigError: when a file cannot be parsed, or the value is
        malformed.
    """
    read = _read_all(files, user_config, system_dir, home)
    if not any(profile in f.sections for f in read):
        return None
    name = setting.lower()  # configparser's spelling of option names
    found = _raw_options(read, profile).get(name)
    if found is None:
        return None
    value, source = found
    return _convert(name, value, profile, source, home)


def _raw_options(
    read: Sequence[_ConfigFile], profile: str
) -> dict[str, tuple[Any, str]]:
    """Return a profile's options as the files give them: name to (raw
    value, file)."""
    raw: dict[str, tuple[Any, str]] = {}
    # configparser semantics: a section's own option beats any DEFAULT,
    # whichever file each came from.
    for section in (_DEFAULT_SECTION, profile):
        for f in read:
            for name, value in f.sections.get(section, {}).items():
                raw[name] = (value, f.path)
    return raw


def _home_dir(home: str | os.PathLike[str] | None) -> str:
    return os.path.expanduser("~") if home is None else os.fspath(home)


def _expand_user(path: str, home: str | os.PathLike[str] | None) -> str:
    if home is not None and (path == "~" or path.startswith("~/")):
        return os.fspath(home) + path[1:]
    return os.path.expanduser(path)


def _conf_dir_files(directory: str) -> list[str]:
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    paths = (os.path.join(directory, n) for n in sorted(names) if n.endswith(".conf"))
    return [p for p in paths if os.path.isfile(p)]


def _read_all(
    files: Sequence[str | os.PathLike[str]] | None,
    user_config: str | os.PathLike[str] | None,
    system_dir: str | os.PathLike[str],
    home: str | os.PathLike[str] | None,
) -> list[_ConfigFile]:
    if files is None:
        paths = config_files(user_config, system_dir, home)
    else:
        paths = [os.fspath(f) for f in files]
    return [_read_file(p) for p in paths]


def _read_file(path: str) -> _ConfigFile:
    # DEFAULT becomes an ordinary section so that its options can be told
    # apart from a section's own ones; the merge gives it its meaning.
    parser = configparser.RawConfigParser(default_section="\0")
    try:
        with open(path, encoding="utf-8") as stream:
            parser.read_file(stream, path)
    except FileNotFoundError:
        return _ConfigFile(path, False, {})
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        raise KojiConfigError(f"cannot read koji config file {path}: {exc}")
    sections = {name: dict(parser.items(name)) for name in parser.sections()}
    return _ConfigFile(path, True, sections)


def _describe(read: Sequence[_ConfigFile]) -> str:
    if not read:
        return "no files"
    return ", ".join(f.path if f.exists else f"{f.path} (not found)" for f in read)


def _keyword_options(options: Mapping[str, Any]) -> dict[str, tuple[Any, str]]:
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
    return {name: (value, _KEYWORDS) for name, value in options.items()}


def _build(
    profile: str | None,
    raw: Mapping[str, tuple[Any, str]],
    files: Sequence[str],
    home: str | os.PathLike[str] | None,
    searched: str,
) -> ProfileConfig:
    options = dict(DEFAULTS)
    for name, (value, source) in raw.items():
        options[name] = _convert(name, value, profile, source, home)
    if not options["server"] or "server" not in raw:
        raise KojiConfigError(
            f"{_name(profile)} sets no server (txkoji needs one; {searched})"
        )
    return ProfileConfig(profile, options, files)


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


def _name(profile: str | None) -> str:
    return "configuration" if profile is None else f"profile {profile!r}"


def _convert(
    name: str,
    value: Any,
    profile: str | None,
    source: str,
    home: str | os.PathLike[str] | None,
) -> Any:
    def bad(expected: str) -> NoReturn:
        where = source if source == _KEYWORDS else f"file {source}"
        shown = "(hidden)" if name in SECRET_OPTIONS else repr(value)
        raise KojiConfigError(
            f"{_name(profile)}: option {name!r} has bad value {shown} "
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
        return _expand_user(value, home)
    if name in PATH_LIST_OPTIONS:
        return ":".join(_expand_user(p, home) for p in value.split(":"))
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
