"""Koji build hosts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet import defer

from txkoji.results import KojiRecord
from txkoji.weblinks import record_url

if TYPE_CHECKING:
    from txkoji.channel import Channel
    from txkoji.task import Task
    from txkoji.user import User


class Host(KojiRecord):
    """A build host, as ``getHost`` and ``listHosts`` return it (``id``,
    ``name``, ``user_id``, ``arches``, ``capacity``, ``task_load``,
    ``ready``, ``enabled``, ``comment``, ``description``)."""

    @property
    def url(self) -> str | None:
        """The kojiweb ``hostinfo`` URL, or ``None`` without a connection
        ``weburl``."""
        return record_url(self, "host", self.get("id"))

    @property
    def arch_list(self) -> list[str]:
        """The host's architectures as a list (the hub sends one
        space-separated string)."""
        return (self.get("arches") or "").split()

    @property
    def spare_capacity(self) -> float:
        """Capacity minus current task load (negative when overloaded)."""
        return float(self.get("capacity") or 0) - float(self.get("task_load") or 0)

    def channels(self) -> defer.Deferred[list[Channel]]:
        """List the channels this host serves.

        :returns: a Deferred firing with a list of
            :class:`~txkoji.channel.Channel`; failing as ``listChannels``
            does.
        """
        return self.connection.listChannels(hostID=self["id"])

    def tasks(self, **opts: Any) -> defer.Deferred[list[Task]]:
        """List tasks on this host (``listTasks`` with ``host_id``).

        :param opts: more ``listTasks`` opts, e.g. ``state=[1]``.
        :returns: a Deferred firing with a list of
            :class:`~txkoji.task.Task`; failing as the hub call does.
        """
        opts["host_id"] = self["id"]
        return self.connection.listTasks(opts, {"order": "id"})

    def user(self) -> defer.Deferred[User | None]:
        """Fetch the host's user account.

        :returns: a Deferred firing with a :class:`~txkoji.user.User` (or
            ``None``); failing as ``getUser`` does.
        """
        return self.connection.getUser(self["user_id"])
