"""Koji build targets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.internet import defer

from txkoji.results import KojiRecord
from txkoji.weblinks import record_url

if TYPE_CHECKING:
    from txkoji.tag import Tag


class Target(KojiRecord):
    """A build target, as ``getBuildTarget`` and ``getBuildTargets``
    return it (``id``, ``name``, ``build_tag``, ``build_tag_name``,
    ``dest_tag``, ``dest_tag_name``)."""

    @property
    def url(self) -> str | None:
        """The kojiweb ``buildtargetinfo`` URL, or ``None`` without a
        connection ``weburl``."""
        return record_url(self, "target", self.get("id"))

    def build_tag(self) -> defer.Deferred[Tag | None]:
        """Fetch the tag builds of this target build in.

        :returns: a Deferred firing with a :class:`~txkoji.tag.Tag`, or
            ``None``; failing as ``getTag`` does.
        """
        return self.connection.getTag(self["build_tag"])

    def dest_tag(self) -> defer.Deferred[Tag | None]:
        """Fetch the tag builds of this target land in.

        :returns: a Deferred firing with a :class:`~txkoji.tag.Tag`, or
            ``None``; failing as ``getTag`` does.
        """
        return self.connection.getTag(self["dest_tag"])
