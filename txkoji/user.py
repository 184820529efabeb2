"""Koji users (people, hosts and groups)."""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING, Any

from twisted.internet import defer

from txkoji.results import KojiRecord
from txkoji.weblinks import record_url

if TYPE_CHECKING:
    from txkoji.build import Build
    from txkoji.task import Task


class UserType(IntEnum):
    """What a user account is."""

    NORMAL = 0
    HOST = 1
    GROUP = 2


class UserStatus(IntEnum):
    """Whether a user may log in."""

    NORMAL = 0
    BLOCKED = 1


class AuthType(IntEnum):
    """How a session was authenticated."""

    NORMAL = 0
    KERBEROS = 1
    SSL = 2
    GSSAPI = 3


class User(KojiRecord):
    """A user, as ``getUser``, ``listUsers`` and ``getLoggedInUser``
    return it (``id``, ``name``, ``status``, ``usertype``,
    ``krb_principals``)."""

    @property
    def url(self) -> str | None:
        """The kojiweb ``userinfo`` URL, or ``None`` without a connection
        ``weburl``."""
        return record_url(self, "user", self.get("id"))

    @property
    def user_type(self) -> UserType:
        """The account's :class:`UserType`."""
        return UserType(self.get("usertype") or 0)

    @property
    def is_blocked(self) -> bool:
        """Whether the account is blocked."""
        return self.get("status") == UserStatus.BLOCKED

    def builds(self, **kwargs: Any) -> defer.Deferred[list[Build]]:
        """List builds this user owns (``listBuilds(userID=id, ...)``).

        :returns: a Deferred firing with a list of
            :class:`~txkoji.build.Build`; failing as the hub call does.
        """
        return self.connection.listBuilds(userID=self["id"], **kwargs)

    def tasks(self, **opts: Any) -> defer.Deferred[list[Task]]:
        """List tasks this user owns (``listTasks`` with ``owner``).

        :param opts: more ``listTasks`` opts, e.g. ``state=[1]``.
        :returns: a Deferred firing with a list of
            :class:`~txkoji.task.Task`; failing as the hub call does.
        """
        opts["owner"] = self["id"]
        return self.connection.listTasks(opts, {"order": "id"})
