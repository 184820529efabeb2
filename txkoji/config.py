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

This module builds a profile's :class:`ProfileConfig`; finding and reading
the files is :mod:`txkoji.config_files`' job, and what each option is and
how its value is converted :mod:`txkoji.config_options`'.  Their public
names are importable from here too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NoReturn
from urllib.parse import SplitResult, urlsplit

from txkoji.config_files import (
    DEFAULT_SECTION,
    config_files,
    describe,
    profile_names,
    profile_option,
    raw_options,
    read_all,
)
from txkoji.config_options import (
    BOOLEAN_OPTIONS,
    DEFAULTS,
    EXTRA_OPTION_PREFIX,
    INTEGER_OPTIONS,
    NON_NEGATIVE_OPTIONS,
    PATH_LIST_OPTIONS,
    PATH_OPTIONS,
    POSITIVE_OPTIONS,
    PROXY_AUTHTYPES,
    SECONDS_OPTIONS,
    SECRET_OPTIONS,
    USER_DEFAULT_FILES,
    convert_option,
    home_dir,
    keyword_options,
    option_owner,
)
from txkoji.exceptions import KojiConfigError

__all__ = [
    "BOOLEAN_OPTIONS",
    "DEFAULTS",
    "DEFAULT_SECTION",
    "EXTRA_OPTION_PREFIX",
    "INTEGER_OPTIONS",
    "NON_NEGATIVE_OPTIONS",
    "PATH_LIST_OPTIONS",
    "PATH_OPTIONS",
    "POSITIVE_OPTIONS",
    "PROXY_AUTHTYPES",
    "SECONDS_OPTIONS",
    "SECRET_OPTIONS",
    "USER_DEFAULT_FILES",
    "ProfileConfig",
    "config_files",
    "from_options",
    "hub_url",
    "mask_userinfo",
    "profile_names",
    "profile_option",
    "read_config",
    "resolve",
]


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
        for name, (value, source) in keyword_options(given).items():
            merged[name] = convert_option(name, value, self.profile, source, None)
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
    read = read_all(files, user_config, system_dir, home)
    if not any(profile in f.sections for f in read):
        raise KojiConfigError(
            f"no configuration for profile name: {profile} (searched {describe(read)})"
        )
    raw = raw_options(read, profile)
    home_directory = home_dir(home)
    for name, filename in USER_DEFAULT_FILES.items():
        candidate = os.path.join(home_directory, ".koji", filename)
        if name not in raw and os.path.isfile(candidate):
            raw[name] = (candidate, candidate)
    if overrides:
        raw.update(keyword_options(overrides))
    files_used = [f.path for f in read if any(src == f.path for _, src in raw.values())]
    return _build(profile, raw, files_used, home, f"files searched: {describe(read)}")


def from_options(profile: str | None = None, **options: Any) -> ProfileConfig:
    """Build a configuration from keyword options alone, reading no file.

    Values are checked and converted as file values are, so
    ``from_options(server="https://koji.example.com/kojihub", timeout="30")``
    gives ``timeout`` 30.  Nothing is taken from ``~/.koji``: no ``cert`` or
    ``serverca`` default.

    :param profile: a name for the configuration (used in messages and as
        ``ProfileConfig.profile``).
    :param options: option values; ``server`` is required.  Names not in
        :data:`DEFAULTS` must start with ``x_`` and are kept as given.
    :raises KojiConfigError: for an unknown option name, a malformed value,
        or no ``server``.
    """
    return _build(profile, keyword_options(options), (), None, "no files read")


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


def _build(
    profile: str | None,
    raw: Mapping[str, tuple[Any, str]],
    files: Sequence[str],
    home: str | os.PathLike[str] | None,
    searched: str,
) -> ProfileConfig:
    options = dict(DEFAULTS)
    for name, (value, source) in raw.items():
        options[name] = convert_option(name, value, profile, source, home)
    if not options["server"] or "server" not in raw:
        raise KojiConfigError(
            f"{option_owner(profile)} sets no server (txkoji needs one; {searched})"
        )
    return ProfileConfig(profile, options, files)
