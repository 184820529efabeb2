"""What the simulator learns from the hub's history: how long a package's
builds and SRPM tasks took, and which arches its builds ran on; and
:func:`compress_history`, which makes that history as fast as the
simulated hub."""

from __future__ import annotations

from statistics import fmean
from typing import Any

from txkoji.testing.records import BUILD_STATES, time_pair
from txkoji.testing.state import HubState

#: Seconds an SRPM task takes when the package has no history of one.
DEFAULT_SRPM_SECONDS = 120.0


def _span(record: dict[str, Any], start: str = "start") -> float | None:
    began, ended = record[f"{start}_ts"], record["completion_ts"]
    if began is None or ended is None:
        return None
    return ended - began


class BuildHistory:
    """The finished RPM builds of a hub's data, by package."""

    def __init__(self, st: HubState) -> None:
        self._st = st

    def _build_roots(self, package_id: int) -> list[dict[str, Any]]:
        """The ``build`` tasks of the package's COMPLETE builds, oldest
        first."""
        roots = []
        for build in sorted(self._st.builds.values(), key=lambda b: b["id"]):
            task = self._st.tasks.get(build["task_id"])
            if (
                build["package_id"] == package_id
                and build["state"] == BUILD_STATES["COMPLETE"]
                and task is not None
                and task["method"] == "build"
            ):
                roots.append(task)
        return roots

    def _children(self, root: dict[str, Any], method: str) -> list[dict[str, Any]]:
        return [
            t
            for t in sorted(self._st.tasks.values(), key=lambda t: t["id"])
            if t["parent"] == root["id"] and t["method"] == method
        ]

    def built_packages(self) -> list[int]:
        """The ids of the packages with at least one COMPLETE RPM build."""
        return [pid for pid in sorted(self._st.packages) if self._build_roots(pid)]

    def build_seconds(self, package_id: int) -> list[float]:
        """How long each COMPLETE RPM build of the package took (start to
        completion of the build record); for a package without any, those
        of every package."""
        spans = self._build_spans(package_id)
        if spans:
            return spans
        return [s for pid in self.built_packages() for s in self._build_spans(pid)]

    def _build_spans(self, package_id: int) -> list[float]:
        spans = []
        for build in self._st.builds.values():
            span = _span(build)
            if (
                build["package_id"] == package_id
                and build["state"] == BUILD_STATES["COMPLETE"]
                and build["task_id"] is not None
                and span is not None
            ):
                spans.append(span)
        return sorted(spans)

    def srpm_seconds(self, package_id: int) -> float:
        """The mean duration of the package's SRPM tasks, or
        :data:`DEFAULT_SRPM_SECONDS` without history."""
        spans = [
            span
            for root in self._build_roots(package_id)
            for child in self._children(root, "buildSRPMFromSCM")
            if (span := _span(child)) is not None
        ]
        return fmean(spans) if spans else DEFAULT_SRPM_SECONDS

    def arches(self, package_id: int) -> tuple[str, ...] | None:
        """The arches of the package's latest COMPLETE build (``noarch``
        for a noarch package), or None without history."""
        roots = self._build_roots(package_id)
        if not roots:
            return None
        return tuple(c["arch"] for c in self._children(roots[-1], "buildArch"))


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
