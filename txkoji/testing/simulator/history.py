"""What the simulator learns from the hub's history: how long a package's
builds and SRPM tasks took, and which arches its builds ran on; and
:func:`compress_history`, which makes that history as fast as the
simulated hub."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import fmean
from typing import Any

from txkoji.testing.records import BUILD_STATES, time_pair
from txkoji.testing.state import HubState

#: Seconds an SRPM task takes when the package has no history of one.
DEFAULT_SRPM_SECONDS = 120.0


def _span(record: dict[str, Any]) -> float | None:
    began, ended = record["start_ts"], record["completion_ts"]
    if began is None or ended is None:
        return None
    return ended - began


@dataclass(frozen=True)
class PackageHistory:
    """What the past COMPLETE RPM builds of one package tell.

    :ivar build_seconds: how long each build took (start to completion of
        the build record), shortest first.
    :ivar srpm_seconds: how long each of their SRPM tasks ran.
    :ivar arches: the arches of the newest one's ``buildArch`` subtasks.
    """

    build_seconds: tuple[float, ...]
    srpm_seconds: tuple[float, ...]
    arches: tuple[str, ...]


class BuildHistory:
    """The COMPLETE RPM builds (made by a ``build`` task) of a hub's data,
    by package, as they are when this is made.

    Durations are in hub seconds: those of a history that
    :func:`compress_history` made ``speed`` times shorter are multiplied
    back by ``speed``.
    """

    def __init__(self, st: HubState, speed: float = 1.0) -> None:
        children: dict[int, list[dict[str, Any]]] = {}
        for task in sorted(st.tasks.values(), key=lambda t: t["id"]):
            if task["parent"] is not None:
                children.setdefault(task["parent"], []).append(task)
        builds: dict[int, list[float]] = {}
        srpms: dict[int, list[float]] = {}
        arches: dict[int, tuple[str, ...]] = {}
        for build in sorted(st.builds.values(), key=lambda b: b["id"]):
            root = st.tasks.get(build["task_id"])
            span = _span(build)
            if (
                build["state"] != BUILD_STATES["COMPLETE"]
                or root is None
                or root["method"] != "build"
                or span is None
            ):
                continue
            package_id = build["package_id"]
            builds.setdefault(package_id, []).append(span * speed)
            kids = children.get(root["id"], [])
            srpms.setdefault(package_id, []).extend(
                span * speed
                for kid in kids
                if kid["method"] == "buildSRPMFromSCM"
                and (span := _span(kid)) is not None
            )
            arches[package_id] = tuple(
                kid["arch"] for kid in kids if kid["method"] == "buildArch"
            )
        self._packages = {
            package_id: PackageHistory(
                tuple(sorted(spans)), tuple(srpms[package_id]), arches[package_id]
            )
            for package_id, spans in builds.items()
        }

    def built_packages(self) -> list[int]:
        """The ids of the packages with at least one such build."""
        return sorted(self._packages)

    def build_seconds(self, package_id: int) -> tuple[float, ...]:
        """How long each build of the package took; for a package without
        any, those of every package."""
        known = self._packages.get(package_id)
        if known is not None:
            return known.build_seconds
        return tuple(
            sorted(s for p in self._packages.values() for s in p.build_seconds)
        )

    def srpm_seconds(self, package_id: int) -> float:
        """The mean duration of the package's SRPM tasks, or
        :data:`DEFAULT_SRPM_SECONDS` without history."""
        known = self._packages.get(package_id)
        return (
            fmean(known.srpm_seconds)
            if known and known.srpm_seconds
            else (DEFAULT_SRPM_SECONDS)
        )

    def arches(self, package_id: int) -> tuple[str, ...] | None:
        """The arches of the package's newest build (``noarch`` for a
        noarch package), or None without history."""
        known = self._packages.get(package_id)
        return known.arches if known else None


def compress_history(st: HubState, speed: float) -> None:
    """Make every finished build and task ``speed`` times shorter: each
    keeps its start time and ends ``speed`` times sooner after it.  So a
    hub simulated at that speed has a history its estimates agree with."""
    if speed == 1:
        return
    for record in [*st.builds.values(), *st.tasks.values()]:
        span = _span(record)
        if span is not None:
            ended = record["start_ts"] + span / speed
            record["completion_time"], record["completion_ts"] = time_pair(ended)
