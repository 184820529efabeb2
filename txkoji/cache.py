"""A read-through, on-disk cache of user and tag names.

Names live one per file under ``$XDG_CACHE_HOME/txkoji/<profile>/<kind>/<id>``
(``~/.cache/txkoji`` when ``XDG_CACHE_HOME`` is unset or relative).  Nothing
expires: user and tag names rarely change; delete the directory to forget.

Reads are a few bytes and done synchronously; writes go to a temporary
file renamed into place, so a reader never sees half a name.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from txkoji.exceptions import KojiException, KojiProtocolError


class CacheKeyError(KojiException, ValueError):
    """An id that is not a non-negative integer, or a profile name that
    could not be a directory inside the cache."""


def default_directory(environ: Any = None) -> str:
    """Return the cache's base directory: ``$XDG_CACHE_HOME/txkoji``, or
    ``~/.cache/txkoji``.

    :param environ: the environment to read (default ``os.environ``).
    """
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_CACHE_HOME") or ""
    # The XDG spec says relative paths are invalid and must be ignored.
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "txkoji")


def profile_directory_name(connection: Any) -> str:
    """Return the cache subdirectory for a connection: its profile name, or
    for a connection made without one, ``hub-`` and a digest of its URL.

    :raises CacheKeyError: when the profile name is empty, ``.``/``..``, or
        holds a path separator or NUL.
    """
    profile = getattr(connection, "profile", None)
    if profile is None:
        digest = hashlib.sha256(str(connection.url).encode()).hexdigest()
        return f"hub-{digest[:16]}"
    separators = {"/", "\\", "\0", os.sep, os.altsep or os.sep}
    if (
        not isinstance(profile, str)
        or profile in ("", ".", "..")
        or any(s in profile for s in separators)
    ):
        raise CacheKeyError(f"profile name {profile!r} cannot name a cache directory")
    return profile


def _check_id(object_id: Any) -> int:
    if isinstance(object_id, bool) or not isinstance(object_id, int) or object_id < 0:
        raise CacheKeyError(f"cache ids are non-negative integers, not {object_id!r}")
    return object_id


class Cache:
    """User and tag names of one hub, read through a disk cache.

    :param connection: the :class:`txkoji.Connection` to fetch misses with.
    :param directory: the base directory (default
        :func:`default_directory`); the connection's profile gets a
        subdirectory.
    :raises CacheKeyError: when the connection's profile name cannot be a
        directory name.
    """

    log = Logger()

    def __init__(self, connection: Any, directory: str | None = None) -> None:
        self.connection = connection
        self.directory = directory if directory is not None else default_directory()
        self._root = os.path.join(self.directory, profile_directory_name(connection))
        self._pending: dict[tuple[str, int], list[defer.Deferred[str | None]]] = {}

    def filename(self, kind: str, object_id: int) -> str:
        """Return the file caching one name.

        :param kind: ``"user"`` or ``"tag"``.
        :raises CacheKeyError: when ``object_id`` is not a non-negative
            integer.
        """
        return os.path.join(self._root, kind, str(_check_id(object_id)))

    def get_name(self, kind: str, object_id: int) -> str | None:
        """Return the cached name, or ``None`` when it is missing, empty or
        unreadable (so it gets fetched again)."""
        try:
            with open(self.filename(kind, object_id), encoding="utf-8") as f:
                name = f.read()
        except (OSError, UnicodeDecodeError):
            return None
        return name or None

    def put_name(self, kind: str, object_id: int, name: str) -> None:
        """Store a name, atomically (temporary file, then rename).

        :raises OSError: when the file cannot be written.
        """
        path = self.filename(kind, object_id)
        directory = os.path.dirname(path)
        os.makedirs(directory, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{object_id}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(name)
            os.replace(temp, path)
        except BaseException:
            os.unlink(temp)
            raise

    def get_or_load_name(
        self,
        kind: str,
        object_id: int,
        method: str | Callable[[int], defer.Deferred[Any]],
    ) -> defer.Deferred[Any]:
        """Return a cached name, fetching and storing it on a miss.

        Concurrent lookups of one id share a single hub call.

        :param kind: ``"user"`` or ``"tag"``.
        :param method: the hub method fetching the record (``"getUser"``),
            or, as txkoji 0.10 took it, a function of the id returning a
            Deferred of the record (``koji.getUser``).
        :returns: a Deferred firing with the name, or ``None`` when the hub
            has no such object.  It fails with :class:`CacheKeyError` for an
            id that is not a non-negative integer, with
            :class:`~txkoji.exceptions.KojiProtocolError` when the hub's
            answer is not a record with a name, or as the hub call does.
        """
        try:
            name = self.get_name(kind, object_id)
        except CacheKeyError:
            return defer.fail()
        if name is not None:
            return defer.succeed(name)
        key = (kind, object_id)
        waiter: defer.Deferred[str | None] = defer.Deferred()
        if key in self._pending:
            self._pending[key].append(waiter)
            return waiter
        self._pending[key] = [waiter]
        fetch = getattr(self.connection, method) if isinstance(method, str) else method
        d = fetch(object_id)
        d.addCallback(self._store, kind, object_id, _method_name(method))
        d.addBoth(self._wake, key)
        return waiter

    def _store(self, record: Any, kind: str, object_id: int, method: str) -> str | None:
        if record is None:
            return None
        name = record.get("name") if isinstance(record, Mapping) else None
        if not isinstance(name, str) or not name:
            raise KojiProtocolError(
                f"{method}({object_id}) answered {str(record)[:80]!r}, not a"
                " record with a name",
                method,
            )
        try:
            self.put_name(kind, object_id, name)
        except (OSError, UnicodeEncodeError) as e:
            self.log.warn(
                "could not cache {kind} {id} name: {error}",
                kind=kind,
                id=object_id,
                error=e,
            )
        return name

    def _wake(self, result: Any, key: tuple[str, int]) -> None:
        for waiter in self._pending.pop(key):
            if isinstance(result, Failure):
                waiter.errback(result)
            else:
                waiter.callback(result)

    def user_name(self, user_id: int) -> defer.Deferred[str | None]:
        """Return a user's name (see :meth:`get_or_load_name`).

        :returns: a Deferred firing with the name, or ``None``.
        """
        return self.get_or_load_name("user", user_id, "getUser")

    def tag_name(self, tag_id: int) -> defer.Deferred[str | None]:
        """Return a tag's name (see :meth:`get_or_load_name`).

        :returns: a Deferred firing with the name, or ``None``.
        """
        return self.get_or_load_name("tag", tag_id, "getTag")


_CACHES: weakref.WeakKeyDictionary[Any, Cache] = weakref.WeakKeyDictionary()


def cache_for(connection: Any) -> Cache:
    """Return the name cache of a connection: its ``cache`` attribute when
    it has one, else one :class:`Cache` per connection, made on first use.

    :raises CacheKeyError: as :class:`Cache` does.
    """
    existing = getattr(connection, "cache", None)
    if isinstance(existing, Cache):
        return existing
    if connection not in _CACHES:
        _CACHES[connection] = Cache(connection)
    return _CACHES[connection]


def _method_name(method: str | Callable[[int], defer.Deferred[Any]]) -> str:
    """Name the hub method a lookup calls, for error messages."""
    if isinstance(method, str):
        return method
    name = getattr(method, "name", None) or getattr(method, "__name__", None)
    return str(name or "lookup")
