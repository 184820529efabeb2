"""Koji tags."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet import defer

from txkoji.results import KojiRecord
from txkoji.weblinks import record_url

if TYPE_CHECKING:
    from txkoji.build import Build
    from txkoji.package import Package


class Tag(KojiRecord):
    """A tag, as ``getTag`` and ``listTags`` return it (``id``, ``name``,
    ``arches``, ``perm``, ``locked``, ``extra``...)."""

    @property
    def url(self) -> str | None:
        """The kojiweb ``taginfo`` URL, or ``None`` without a connection
        ``weburl``."""
        return record_url(self, "tag", self.get("id"))

    @property
    def arch_list(self) -> list[str]:
        """The tag's architectures as a list (the hub sends one
        space-separated string, or nil)."""
        return (self.get("arches") or "").split()

    def tagged_builds(self, **kwargs: Any) -> defer.Deferred[list[Build]]:
        """List the builds in this tag (``listTagged``).

        :param kwargs: more ``listTagged`` arguments, e.g. ``latest=True``,
            ``inherit=True``, ``package="bash"``.
        :returns: a Deferred firing with a list of
            :class:`~txkoji.build.Build`; failing as the hub call does.
        """
        return self.connection.listTagged(self["id"], **kwargs)

    def packages(self, **kwargs: Any) -> defer.Deferred[list[Package]]:
        """List this tag's package list (``listPackages(tagID=id, ...)``).

        :returns: a Deferred firing with a list of
            :class:`~txkoji.package.Package` entries; failing as the hub
            call does.
        """
        return self.connection.listPackages(tagID=self["id"], **kwargs)

    def inheritance(self) -> defer.Deferred[list[dict[str, Any]]]:
        """Fetch this tag's direct parents (``getInheritanceData``).

        :returns: a Deferred firing with a list of inheritance links
            (``parent_id``, ``name``, ``priority``...).
        """
        return self.connection.getInheritanceData(self["id"])

    def repo(self) -> defer.Deferred[dict[str, Any] | None]:
        """Fetch this tag's current repo (``getRepo``).

        :returns: a Deferred firing with the repo record, or ``None`` when
            the tag has no ready repo.
        """
        return self.connection.getRepo(self["id"])
