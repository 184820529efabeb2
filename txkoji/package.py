"""Koji packages."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from twisted.internet import defer

from txkoji.estimates import average_build_duration
from txkoji.results import KojiRecord
from txkoji.weblinks import record_url

if TYPE_CHECKING:
    from txkoji.build import Build


class Package(KojiRecord):
    """A package: ``{id, name}`` from ``getPackage``, or a package list
    entry from ``listPackages`` (``package_id``, ``package_name``,
    ``tag_id``, ``tag_name``, ``blocked``, ``owner_name``...)."""

    id_fields = ("id", "package_id")

    @property
    def package_id(self) -> int | None:
        """The package id, whichever of the two record shapes this is."""
        return self.get("package_id", self.get("id"))

    @property
    def package_name(self) -> str | None:
        """The package name, whichever of the two record shapes this is."""
        return self.get("package_name", self.get("name"))

    @property
    def url(self) -> str | None:
        """The kojiweb ``packageinfo`` URL, or ``None`` without a
        connection ``weburl``."""
        return record_url(self, "package", self.package_id)

    def builds(self, **kwargs: Any) -> defer.Deferred[list[Build]]:
        """List this package's builds (``listBuilds(packageID=id, ...)``).

        :param kwargs: more ``listBuilds`` arguments, e.g. ``state=1``,
            ``queryOpts={"limit": 5, "order": "-build_id"}``.
        :returns: a Deferred firing with a list of
            :class:`~txkoji.build.Build`; failing as the hub call does.
        """
        return self.connection.listBuilds(packageID=self.package_id, **kwargs)

    def average_build_duration(self) -> defer.Deferred[timedelta | None]:
        """Estimate how long a build of this package takes (see
        :func:`txkoji.estimates.average_build_duration`).

        :returns: a Deferred firing with a ``timedelta``, or ``None`` with
            no build history.
        """
        # A package record always names its package (either shape).
        return average_build_duration(self.connection, self.package_name)  # type: ignore[arg-type]
