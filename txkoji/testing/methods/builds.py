"""Build methods: getBuild, listBuilds, listTagged, listTags and
getAverageBuildDuration."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any

from txkoji.testing.dispatch import CallContext, hub_method
from txkoji.testing.records import BUILD_STATES
from txkoji.testing.state import (
    HubState,
    active_listing,
    apply_query_opts,
    epoch_seconds,
    select,
)

# The fields listTagged returns for each build (readTaggedBuilds).
_TAGGED_FIELDS = (
    "build_id",
    "id",
    "version",
    "release",
    "epoch",
    "state",
    "completion_time",
    "completion_ts",
    "start_time",
    "start_ts",
    "task_id",
    "creation_event_id",
    "creation_time",
    "creation_ts",
    "volume_id",
    "volume_name",
    "package_id",
    "package_name",
    "name",
    "nvr",
    "owner_id",
    "owner_name",
    "draft",
)
_TAG_FIELDS = (
    "id",
    "name",
    "perm_id",
    "perm",
    "arches",
    "locked",
    "maven_support",
    "maven_include_all",
)
_MONTH = 30 * 24 * 3600.0


def _filter_id(st: HubState, table: str, info: Any) -> int | None:
    """Return the id a filter names: None for no filter, -1 (matching
    nothing) for a name that names nothing."""
    if info is None:
        return None
    found = st.find_id(table, info)
    return -1 if found is None else found


@hub_method()
def getBuild(ctx: CallContext, buildInfo: Any, strict: bool = False) -> Any:
    """Return the build ``buildInfo`` names (id, NVR or struct), or nil.

    :raises GenericError: ``No such build`` when strict and not found.
    """
    found = ctx.state.find("builds", buildInfo, strict, "build")
    return dict(found) if found else None


@hub_method()
def listBuilds(
    ctx: CallContext,
    packageID: Any = None,
    userID: Any = None,
    taskID: Any = None,
    prefix: str | None = None,
    state: int | None = None,
    volumeID: int | None = None,
    source: str | None = None,
    createdBefore: Any = None,
    createdAfter: Any = None,
    completeBefore: Any = None,
    completeAfter: Any = None,
    type: str | None = None,
    queryOpts: Any = None,
    pattern: str | None = None,
    cgID: Any = None,
    draft: bool | None = None,
) -> Any:
    """Return the builds matching every filter given, ordered by id unless
    ``queryOpts`` says otherwise.  ``taskID=-1`` means "made by a task"."""
    st = ctx.state
    tests: list[Callable[[dict[str, Any]], bool]] = []
    for key, value in (
        ("package_id", _filter_id(st, "packages", packageID)),
        ("owner_id", _filter_id(st, "users", userID)),
        ("state", state),
        ("volume_id", volumeID),
        ("source", source),
        ("cg_id", cgID),
        ("draft", draft),
    ):
        if value is not None:

            def equals(b: dict[str, Any], key: str = key, value: Any = value) -> bool:
                return b[key] == value

            tests.append(equals)
    if taskID == -1:
        tests.append(lambda b: b["task_id"] is not None)
    elif taskID is not None:
        tests.append(lambda b: b["task_id"] == taskID)
    if prefix is not None:
        tests.append(lambda b: b["name"].startswith(prefix))
    if pattern is not None:
        tests.append(lambda b: fnmatch.fnmatchcase(b["nvr"], pattern))
    if type is not None:
        tests.append(lambda b: type in st.build_types.get(b["id"], []))
    for value, field, before in (
        (createdBefore, "creation_ts", True),
        (createdAfter, "creation_ts", False),
        (completeBefore, "completion_ts", True),
        (completeAfter, "completion_ts", False),
    ):
        if value is not None:
            limit = epoch_seconds(value, field)

            def in_time(
                b: dict[str, Any],
                f: str = field,
                lim: float = limit,
                bef: bool = before,
            ) -> bool:
                return b[f] is not None and (b[f] < lim if bef else b[f] > lim)

            tests.append(in_time)
    rows = [dict(b) for b in st.builds.values() if all(t(b) for t in tests)]
    return apply_query_opts(sorted(rows, key=lambda b: b["id"]), queryOpts)


@hub_method()
def getAverageBuildDuration(
    ctx: CallContext, package: Any, age: int | None = None
) -> float | None:
    """Return the mean duration in seconds of the package's completed
    builds that have a start time (imports do not), or nil without any.

    :param age: only builds completed in the last ``age`` months (of 30
        days, counted back from the hub clock).
    """
    package_id = ctx.state.find_id("packages", package)
    since = None if age is None else ctx.state.now() - int(age) * _MONTH
    durations = [
        b["completion_ts"] - b["start_ts"]
        for b in ctx.state.builds.values()
        if b["package_id"] == package_id
        and b["state"] == BUILD_STATES["COMPLETE"]
        and b["start_ts"] is not None
        and (since is None or b["completion_ts"] > since)
    ]
    return sum(durations) / len(durations) if durations else None


@hub_method()
def listTagged(
    ctx: CallContext,
    tag: Any,
    event: int | None = None,
    inherit: bool = False,
    prefix: str | None = None,
    latest: bool = False,
    package: Any = None,
    owner: Any = None,
    type: str | None = None,
) -> list[dict[str, Any]]:
    """Return the builds tagged in ``tag`` (and, with ``inherit``, its
    ancestors), newest tagging first, each with ``tag_id``, ``tag_name``
    and ``create_event``; ``latest`` keeps the newest build per package,
    nearer tags winning.

    :raises GenericError: ``No such tagInfo`` for an unknown tag.
    """
    st = ctx.state
    tag_row = st.find("tags", tag, True, "tagInfo")
    package_id = _filter_id(st, "packages", package)
    owner_id = _filter_id(st, "users", owner)
    result: list[dict[str, Any]] = []
    seen_packages: set[int] = set()
    for tag_id in st.tag_lineage(tag_row["id"], inherit):
        entries = sorted(
            (
                e
                for e in st.tagged_builds
                if e["tag_id"] == tag_id and active_listing(e, event)
            ),
            key=lambda e: e["create_event"],
            reverse=True,
        )
        found_here: set[int] = set()
        for entry in entries:
            build = st.builds[entry["build_id"]]
            if (
                (package_id is not None and build["package_id"] != package_id)
                or (owner_id is not None and build["owner_id"] != owner_id)
                or (prefix is not None and not build["name"].startswith(prefix))
                or (
                    type is not None and type not in st.build_types.get(build["id"], [])
                )
                or (latest and build["package_id"] in seen_packages | found_here)
            ):
                continue
            found_here.add(build["package_id"])
            row = select([build], _TAGGED_FIELDS)[0]
            tagged_in = st.tags[tag_id]
            row.update(tag_id=tag_id, tag_name=tagged_in["name"])
            row["create_event"] = entry["create_event"]
            result.append(row)
        seen_packages |= found_here
    return result


@hub_method()
def listTags(
    ctx: CallContext,
    build: Any = None,
    package: Any = None,
    perms: bool = True,
    queryOpts: Any = None,
    pattern: str | None = None,
) -> Any:
    """Return tags: those ``build`` is tagged in, those whose package list
    holds ``package`` (with the list entry's ``owner_id``, ``owner_name``,
    ``blocked`` and ``extra_arches``), or all; ``pattern`` is a glob on
    the name.  ``perms`` is accepted; every record carries its perm.

    :raises GenericError: for an unknown build or package.
    """
    st = ctx.state
    tags = sorted(st.tags.values(), key=lambda t: t["id"])
    rows = select(tags, _TAG_FIELDS)
    if build is not None:
        build_id = st.find("builds", build, True, "build")["id"]
        tagged = {
            e["tag_id"]
            for e in st.tagged_builds
            if e["build_id"] == build_id and active_listing(e)
        }
        rows = [r for r in rows if r["id"] in tagged]
    if package is not None:
        package_id = st.find("packages", package, True, "package")["id"]
        entries = {
            e["tag_id"]: e for e in st.tag_packages if e["package_id"] == package_id
        }
        rows = [r for r in rows if r["id"] in entries]
        for row in rows:
            entry = entries[row["id"]]
            row.update(
                owner_id=entry["owner_id"],
                owner_name=st.users[entry["owner_id"]]["name"],
                blocked=entry["blocked"],
                extra_arches=entry["extra_arches"],
            )
    if pattern is not None:
        rows = [r for r in rows if fnmatch.fnmatchcase(r["name"], pattern)]
    return apply_query_opts(rows, queryOpts)


@hub_method()
def getLatestBuilds(
    ctx: CallContext,
    tag: Any,
    event: int | None = None,
    package: Any = None,
    type: str | None = None,
) -> list[dict[str, Any]]:
    """Return the newest build of each package in ``tag`` and the tags it
    inherits, as :func:`listTagged` with ``inherit`` and ``latest`` does.

    :raises GenericError: ``No such tagInfo`` for an unknown tag.
    """
    return listTagged(
        ctx, tag, event=event, inherit=True, latest=True, package=package, type=type
    )
