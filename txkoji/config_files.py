"""Finding and reading the koji client config files, as the official
``koji`` client does: which files (:func:`config_files`), the profiles in
them (:func:`profile_names`), a profile's options as written
(:func:`raw_options`), and one option's value (:func:`profile_option`).

A ``[DEFAULT]`` section supplies options to every profile, as configparser
does, and a profile's own options win over it whatever the file order.
Values are read raw, so a ``%`` in a URL stays as written.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from txkoji.config_options import convert_option, expand_user, home_dir
from txkoji.exceptions import KojiConfigError

#: The section whose options every profile gets.
DEFAULT_SECTION = "DEFAULT"


@dataclass(frozen=True)
class ConfigFile:
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
        found.append(expand_user(os.fspath(user_config), home))
    else:
        user_dir = os.path.join(home_dir(home), ".koji")
        found.extend(_conf_dir_files(os.path.join(user_dir, "config.d")))
        found.append(os.path.join(user_dir, "config"))
    return found


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
        for f in read_all(files, user_config, system_dir, home)
        for name in f.sections
        if name != DEFAULT_SECTION
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
    read = read_all(files, user_config, system_dir, home)
    if not any(profile in f.sections for f in read):
        return None
    name = setting.lower()  # configparser's spelling of option names
    found = raw_options(read, profile).get(name)
    if found is None:
        return None
    value, source = found
    return convert_option(name, value, profile, source, home)


def raw_options(read: Sequence[ConfigFile], profile: str) -> dict[str, tuple[Any, str]]:
    """Return a profile's options as the files give them: name to (raw
    value, file)."""
    raw: dict[str, tuple[Any, str]] = {}
    # configparser semantics: a section's own option beats any DEFAULT,
    # whichever file each came from.
    for section in (DEFAULT_SECTION, profile):
        for f in read:
            for name, value in f.sections.get(section, {}).items():
                raw[name] = (value, f.path)
    return raw


def _conf_dir_files(directory: str) -> list[str]:
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    paths = (os.path.join(directory, n) for n in sorted(names) if n.endswith(".conf"))
    return [p for p in paths if os.path.isfile(p)]


def read_all(
    files: Sequence[str | os.PathLike[str]] | None,
    user_config: str | os.PathLike[str] | None,
    system_dir: str | os.PathLike[str],
    home: str | os.PathLike[str] | None,
) -> list[ConfigFile]:
    """Read ``files``, or those :func:`config_files` finds (missing ones
    read as empty).

    :raises KojiConfigError: when a file cannot be parsed.
    """
    if files is None:
        paths = config_files(user_config, system_dir, home)
    else:
        paths = [os.fspath(f) for f in files]
    return [_read_file(p) for p in paths]


def _read_file(path: str) -> ConfigFile:
    # DEFAULT becomes an ordinary section so that its options can be told
    # apart from a section's own ones; the merge gives it its meaning.
    parser = configparser.RawConfigParser(default_section="\0")
    try:
        with open(path, encoding="utf-8") as stream:
            parser.read_file(stream, path)
    except FileNotFoundError:
        return ConfigFile(path, False, {})
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        raise KojiConfigError(f"cannot read koji config file {path}: {exc}")
    sections = {name: dict(parser.items(name)) for name in parser.sections()}
    return ConfigFile(path, True, sections)


def describe(read: Sequence[ConfigFile]) -> str:
    """Return the files read, for a message (those missing marked)."""
    if not read:
        return "no files"
    return ", ".join(f.path if f.exists else f"{f.path} (not found)" for f in read)
