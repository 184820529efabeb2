"""Hub methods that change data, for exercising logged-in sessions.

Each needs a logged-in caller and commits a write (so the hub stores the
session's call number): ``createTag``, ``editTag``, ``packageListAdd``.
Every write advances the hub's last event.
"""

from __future__ import annotations

from typing import Any

from txkoji.exceptions import GenericError, TagError
from txkoji.testing.dispatch import CallContext, hub_method
from txkoji.testing.sessions import logged_in_user


def _new_event(ctx: CallContext) -> int:
    event = ctx.state.last_event
    event["id"] += 1
    event["ts"] = ctx.state.now()
    return event["id"]


@hub_method(write=True)
def createTag(
    ctx: CallContext,
    name: str,
    parent: Any = None,
    arches: str | None = None,
    locked: bool = False,
    extra: dict[str, Any] | None = None,
) -> int:
    """Create a tag; return its id.

    :raises GenericError: when the name is taken or the parent unknown.
    """
    logged_in_user(ctx)
    state = ctx.state
    if state.find("tags", name) is not None:
        raise GenericError(f"A tag with the name {name!r} already exists")
    parents = [] if parent is None else [state.find("tags", parent, True, "tag")["id"]]
    tag_id = max(state.tags, default=0) + 1
    state.tags[tag_id] = {
        "id": tag_id,
        "name": name,
        "perm_id": None,
        "perm": None,
        "arches": arches,
        "locked": bool(locked),
        "maven_support": False,
        "maven_include_all": False,
        "extra": dict(extra or {}),
    }
    state.tag_parents[tag_id] = parents
    _new_event(ctx)
    return tag_id


@hub_method(write=True)
def editTag(
    ctx: CallContext,
    tagInfo: Any,
    name: str | None = None,
    arches: str | None = None,
    locked: bool | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Change a tag's name, arches, lock or extra (merged).

    :raises GenericError: for an unknown tag or a taken name.
    """
    logged_in_user(ctx)
    tag = ctx.state.find("tags", tagInfo, True, "tag")
    if name is not None and name != tag["name"]:
        if ctx.state.find("tags", name) is not None:
            raise GenericError(f"Name {name} already taken by tag")
        tag["name"] = name
    if arches is not None:
        tag["arches"] = arches
    if locked is not None:
        tag["locked"] = bool(locked)
    if extra:
        tag["extra"].update(extra)
    _new_event(ctx)


@hub_method(write=True)
def packageListAdd(
    ctx: CallContext,
    taginfo: Any,
    pkginfo: Any,
    owner: Any = None,
    block: bool | None = None,
    extra_arches: str | None = None,
) -> None:
    """List a package (created when new) in a tag's package list, or update
    its entry.

    :raises TagError: for a locked tag.
    :raises GenericError: for an unknown tag or owner, or a new entry
        without an owner.
    """
    logged_in_user(ctx)
    state = ctx.state
    tag = state.find("tags", taginfo, True, "tag")
    if tag["locked"]:
        raise TagError(f"tag {tag['name']} is locked")
    package = state.find("packages", pkginfo)
    if package is None:
        if not isinstance(pkginfo, str):
            raise GenericError(f"No such package: {pkginfo!r}")
        package = {"id": max(state.packages, default=0) + 1, "name": pkginfo}
        state.packages[package["id"]] = package
    owner_id = state.find("users", owner, True, "user")["id"] if owner else None
    entry = next(
        (
            e
            for e in state.tag_packages
            if e["tag_id"] == tag["id"] and e["package_id"] == package["id"]
        ),
        None,
    )
    if entry is None:
        if owner_id is None:
            raise GenericError("owner not specified")
        entry = {
            "tag_id": tag["id"],
            "package_id": package["id"],
            "owner_id": owner_id,
            "blocked": False,
            "extra_arches": None,
        }
        state.tag_packages.append(entry)
    elif owner_id is not None:
        entry["owner_id"] = owner_id
    if block is not None:
        entry["blocked"] = bool(block)
    if extra_arches is not None:
        entry["extra_arches"] = extra_arches
    entry["create_event"] = _new_event(ctx)
