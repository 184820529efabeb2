"""Lookup methods for packages, users, tags, targets, channels and hosts."""

from __future__ import annotations

from typing import Any

from txkoji.testing.dispatch import CallContext, hub_method
from txkoji.testing.state import apply_query_opts


def _copy(found: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if found is None else dict(found)


@hub_method()
def getPackage(ctx: CallContext, info: Any, strict: bool = False) -> Any:
    """Return ``{id, name}`` of the package (id or name), or nil.

    :raises GenericError: ``No such package`` when strict and not found.
    """
    return _copy(ctx.state.find("packages", info, strict, "package"))


@hub_method()
def listPackages(
    ctx: CallContext,
    tagID: Any = None,
    userID: Any = None,
    pkgID: Any = None,
    prefix: str | None = None,
    inherited: bool = False,
    with_dups: bool = False,
    event: int | None = None,
    queryOpts: Any = None,
) -> Any:
    """Return packages.  Without ``tagID`` and ``userID``: ``{package_id,
    package_name}`` of every package.  Otherwise the package list entries
    (``package_id``, ``package_name``, ``tag_id``, ``tag_name``,
    ``owner_id``, ``owner_name``, ``extra_arches``, ``blocked``) of the tag
    (and its ancestors when ``inherited``; the nearest entry per package
    unless ``with_dups``) or owned by the user, as of ``event``."""
    st = ctx.state
    pkg_id = None if pkgID is None else st.find_id("packages", pkgID)
    names = {p["id"]: p["name"] for p in st.packages.values()}
    if tagID is None and userID is None:
        rows = [
            {"package_id": pid, "package_name": name}
            for pid, name in sorted(names.items())
            if pkg_id in (None, pid)
        ]
    else:
        if tagID is None:
            tag_ids = sorted(st.tags)
        else:
            tag = st.find("tags", tagID, True, "tagInfo")
            tag_ids = st.tag_lineage(tag["id"], inherited)
        user_id = None if userID is None else st.find_id("users", userID)
        rows, seen = [], set()
        for tag_id in tag_ids:
            for entry in st.tag_packages:
                pid = entry["package_id"]
                if (
                    entry["tag_id"] != tag_id
                    or pkg_id not in (None, pid)
                    or (userID is not None and entry["owner_id"] != user_id)
                    or (event is not None and entry["create_event"] > event)
                    or (pid in seen and not with_dups)
                ):
                    continue
                seen.add(pid)
                rows.append(
                    {
                        "package_id": pid,
                        "package_name": names[pid],
                        "tag_id": tag_id,
                        "tag_name": st.tags[tag_id]["name"],
                        "owner_id": entry["owner_id"],
                        "owner_name": st.users[entry["owner_id"]]["name"],
                        "extra_arches": entry["extra_arches"],
                        "blocked": entry["blocked"],
                    }
                )
    if prefix is not None:
        rows = [r for r in rows if r["package_name"].startswith(prefix)]
    return apply_query_opts(rows, queryOpts)


@hub_method()
def getUser(ctx: CallContext, userInfo: Any = None, strict: bool = False) -> Any:
    """Return the user named by id, name or Kerberos principal; without
    ``userInfo``, the logged-in user (nil when anonymous).

    :raises GenericError: ``No such user`` when strict and not found.
    """
    if userInfo is None:
        userInfo = getattr(ctx.session, "user_id", None)
        if userInfo is None:
            return None
    return _copy(ctx.state.find("users", userInfo, strict, "user"))


@hub_method()
def getTag(
    ctx: CallContext, taginfo: Any, strict: bool = False, event: int | None = None
) -> Any:
    """Return the tag (id, name or struct), or nil; with ``event``, the
    record also carries ``query_event`` (tags do not change in the data
    set, so the record is the same).

    :raises GenericError: ``No such tagInfo`` when strict and not found.
    """
    found = _copy(ctx.state.find("tags", taginfo, strict, "tagInfo"))
    if found is not None and event is not None:
        found["query_event"] = event
    return found


@hub_method()
def getBuildTarget(
    ctx: CallContext, info: Any, event: int | None = None, strict: bool = False
) -> Any:
    """Return the build target (id or name), or nil; targets do not change
    in the data set, so ``event`` does not alter the answer.

    :raises GenericError: ``No such build target`` when strict.
    """
    return _copy(ctx.state.find("targets", info, strict, "build target"))


@hub_method()
def getChannel(ctx: CallContext, channelInfo: Any, strict: bool = False) -> Any:
    """Return the channel (id or name), or nil.

    :raises GenericError: ``No such channel`` when strict and not found.
    """
    return _copy(ctx.state.find("channels", channelInfo, strict, "channel"))


@hub_method()
def listChannels(
    ctx: CallContext,
    hostID: Any = None,
    event: int | None = None,
    enabled: bool | None = None,
) -> list[dict[str, Any]]:
    """Return the channels (of host ``hostID`` when given; only enabled or
    disabled ones when ``enabled`` is set), by id.  Channel membership does
    not change in the data set, so ``event`` does not alter the answer."""
    st = ctx.state
    host_id = None if hostID is None else st.find_id("hosts", hostID)
    member = {c for h, c in st.host_channels if h == host_id}
    return [
        dict(c)
        for cid, c in sorted(st.channels.items())
        if (hostID is None or cid in member) and enabled in (None, c["enabled"])
    ]


@hub_method()
def getHost(
    ctx: CallContext, hostInfo: Any, strict: bool = False, event: int | None = None
) -> Any:
    """Return the host (id or name), or nil; hosts do not change in the
    data set, so ``event`` does not alter the answer.

    :raises GenericError: ``No such host`` when strict and not found.
    """
    return _copy(ctx.state.find("hosts", hostInfo, strict, "host"))


@hub_method()
def listHosts(
    ctx: CallContext,
    arches: list[str] | None = None,
    channelID: Any = None,
    ready: bool | None = None,
    enabled: bool | None = None,
    userID: Any = None,
    queryOpts: Any = None,
) -> Any:
    """Return the hosts matching every filter: any of ``arches``, member of
    channel ``channelID`` (id or name), ``ready``, ``enabled``, ``userID``
    (the host's user, id or name); ordered by id unless ``queryOpts`` says
    otherwise."""
    st = ctx.state
    channel_id = None if channelID is None else st.find_id("channels", channelID)
    user_id = None if userID is None else st.find_id("users", userID)
    rows = [
        dict(h)
        for hid, h in sorted(st.hosts.items())
        if (arches is None or set(arches) & set(h["arches"].split()))
        and (channelID is None or (hid, channel_id) in st.host_channels)
        and ready in (None, h["ready"])
        and enabled in (None, h["enabled"])
        and (userID is None or h["user_id"] == user_id)
    ]
    return apply_query_opts(rows, queryOpts)


@hub_method()
def getBuildTargets(
    ctx: CallContext,
    info: Any = None,
    event: int | None = None,
    buildTagID: Any = None,
    destTagID: Any = None,
    queryOpts: Any = None,
) -> Any:
    """Return the build targets, all or those matching ``info`` (an id or
    name), ``buildTagID`` and ``destTagID`` (ids or names)."""
    st = ctx.state
    target = st.find("targets", info, False, "build target") if info else None
    build_tag = st.find("tags", buildTagID, False, "tag") if buildTagID else None
    dest_tag = st.find("tags", destTagID, False, "tag") if destTagID else None
    rows = [
        dict(row)
        for row in st.targets.values()
        if (info is None or (target is not None and row["id"] == target["id"]))
        and (buildTagID is None or (build_tag and row["build_tag"] == build_tag["id"]))
        and (destTagID is None or (dest_tag and row["dest_tag"] == dest_tag["id"]))
    ]
    return apply_query_opts(rows, queryOpts)


@hub_method()
def listUsers(
    ctx: CallContext,
    userType: int | None = None,
    prefix: str | None = None,
    queryOpts: Any = None,
    perm: str | None = None,
    inherited_perm: bool = False,
) -> Any:
    """Return the users of ``userType`` (NORMAL, 0, by default), whose names
    start with ``prefix`` when given.  The data set grants no permissions, so
    ``perm`` matches no one."""
    wanted = 0 if userType is None else userType
    rows = [
        dict(row)
        for row in ctx.state.users.values()
        if row["usertype"] == wanted
        and (prefix is None or row["name"].startswith(prefix))
        and perm is None
    ]
    return apply_query_opts(rows, queryOpts)
