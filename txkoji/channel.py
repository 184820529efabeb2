"""Koji channels: the queues tasks wait in for a host."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet import defer

from txkoji.results import KojiRecord
from txkoji.weblinks import record_url

if TYPE_CHECKING:
    from txkoji.host import Host
    from txkoji.task import Task


class Channel(KojiRecord):
    """A channel, as ``getChannel`` and ``listChannels`` return it (``id``,
    ``name``, ``description``, ``enabled``, ``comment``).

    A :attr:`txkoji.task.Task.channel` holds only the ``id``; the helpers
    below need nothing more.
    """

    @property
    def url(self) -> str | None:
        """The kojiweb ``channelinfo`` URL, or ``None`` without a
        connection ``weburl``."""
        return record_url(self, "channel", self.get("id"))

    def hosts(self, **kwargs: Any) -> defer.Deferred[list[Host]]:
        """List the hosts in this channel (``listHosts(channelID=id, ...)``).

        :param kwargs: more ``listHosts`` keyword arguments, e.g.
            ``enabled=True``.
        :returns: a Deferred firing with a list of
            :class:`~txkoji.host.Host`; failing as the hub call does.
        """
        kwargs["channelID"] = self["id"]
        return self.connection.listHosts(**kwargs)

    def tasks(self, **opts: Any) -> defer.Deferred[list[Task]]:
        """List this channel's tasks, ordered by priority then creation.

        :param opts: ``listTasks`` opts, e.g. ``state=[task_states.OPEN]``.
        :returns: a Deferred firing with a list of
            :class:`~txkoji.task.Task`; failing as the hub call does.
        """
        opts["channel_id"] = self["id"]
        return self.connection.listTasks(opts, {"order": "priority,create_time"})

    def total_capacity(self) -> defer.Deferred[float]:
        """Sum the capacity of the channel's enabled hosts: the total task
        weight the channel can run at once.

        :returns: a Deferred firing with a float (0.0 with no enabled host);
            failing as ``listHosts`` does.
        """
        d = self.hosts(enabled=True)
        return d.addCallback(
            lambda hosts: float(sum(h.get("capacity") or 0 for h in hosts))
        )
