"""``queryHistory`` over the ``tag_listing`` table: who tagged which build
into which tag, and when it was untagged.

The fake hub keeps the history of ``tag_listing`` only
(:attr:`HubState.tagged_builds <txkoji.testing.state.HubState>`); asking
for another of Koji's history tables is a fault naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from txkoji.exceptions import GenericError, ParameterError
from txkoji.testing.dispatch import CallContext, hub_method
from txkoji.testing.state import HubState, epoch_seconds

#: Koji's versioned tables (``queryHistory`` knows these names).
HISTORY_TABLES = frozenset(
    {
        "user_perms",
        "user_groups",
        "cg_users",
        "tag_inheritance",
        "tag_config",
        "tag_extra",
        "build_target_config",
        "external_repo_config",
        "host_config",
        "host_channels",
        "tag_external_repos",
        "tag_listing",
        "tag_packages",
        "tag_package_owners",
        "group_config",
        "group_req_listing",
        "group_package_listing",
    }
)
_KEPT_TABLES = ("tag_listing",)

Row = dict[str, Any]
Test = Callable[[Row], Any]


def _or(first: Any, second: Any) -> Any:
    """SQL's three-valued OR (None is NULL)."""
    if first is True or second is True:
        return True
    if first is None or second is None:
        return None
    return False


def _compare(value: Any, limit: float, before: bool) -> bool | None:
    if value is None:
        return None
    return value < limit if before else value > limit


def _user_name(st: HubState, user_id: int | None) -> str | None:
    return None if user_id is None else st.users[user_id]["name"]


def _listing_row(st: HubState, entry: dict[str, Any]) -> Row:
    """Return a tag_listing history row with the fields (and names) a hub
    gives them."""
    build = st.builds[entry["build_id"]]
    revoke = entry["revoke_event"]
    return {
        "active": True if revoke is None else None,
        "build.state": build["state"],
        "build_id": build["id"],
        "create_event": entry["create_event"],
        "create_ts": st.event_ts(entry["create_event"]),
        "creator_id": entry["owner_id"],
        "creator_name": _user_name(st, entry["owner_id"]),
        "epoch": build["epoch"],
        "name": build["name"],
        "release": build["release"],
        "revoke_event": revoke,
        "revoke_ts": None if revoke is None else st.event_ts(revoke),
        "revoker_id": entry["revoker_id"],
        "revoker_name": _user_name(st, entry["revoker_id"]),
        "tag.name": st.tags[entry["tag_id"]]["name"],
        "tag_id": entry["tag_id"],
        "version": build["version"],
    }


def _comparison(
    limit: float, created: str, revoked: str, before: bool
) -> Callable[[Row], tuple[Any, Any]]:
    """Return how a row's creation and revocation compare with ``limit``."""
    return lambda row: (
        _compare(row[created], limit, before),
        _compare(row[revoked], limit, before),
    )


def _equals(field: str, wanted: int) -> Test:
    return lambda row: row[field] == wanted


def _event_id(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(f"Invalid event id for {name}: {value!r}")
    return value


@hub_method()
def queryHistory(
    ctx: CallContext,
    tables: list[str] | None = None,
    tag: Any = None,
    build: Any = None,
    package: Any = None,
    before: Any = None,
    after: Any = None,
    beforeEvent: int | None = None,
    afterEvent: int | None = None,
    active: bool | None = None,
    editor: Any = None,
) -> dict[str, list[Row]]:
    """Return ``{"tag_listing": [rows]}``: the tag_listing history
    matching every filter, in event order.

    Each row has the hub's fields: ``tag_id``, ``tag.name``, ``build_id``,
    ``build.state``, ``name``, ``version``, ``release``, ``epoch``,
    ``create_event``, ``create_ts``, ``creator_id``, ``creator_name``,
    ``revoke_event``, ``revoke_ts``, ``revoker_id``, ``revoker_name`` and
    ``active`` (True while in force, else nil).  As on a hub:

    * ``afterEvent``/``beforeEvent`` keep rows created or revoked after
      (before) that event, and add ``_created_after_event`` and
      ``_revoked_after_event`` (``_created_before_event``...), true when
      that part matched (nil for a row never revoked);
    * ``after``/``before`` (times) do the same on the event times, with
      ``_created_after``/``_revoked_after`` (``_created_before``...);
    * ``editor`` (user id or name) keeps rows it created or revoked, with
      ``_created_by``/``_revoked_by``;
    * ``active`` True keeps rows in force, False the revoked ones;
    * ``tag``, ``build`` and ``package`` (ids or names) restrict to them.

    ``tables`` nil means every table the fake hub keeps (tag_listing).

    :raises GenericError: ``No such history table`` for an unknown table,
        or a table the fake hub keeps no history of; for an unknown tag,
        build, package or editor.
    """
    st = ctx.state
    for table in tables or _KEPT_TABLES:
        if table not in HISTORY_TABLES:
            raise GenericError(f"No such history table: {table}")
        if table not in _KEPT_TABLES:
            raise GenericError(f"The fake hub keeps no history of {table}")
    tests: list[Test] = []
    marks: dict[str, Callable[[Row], tuple[Any, Any]]] = {}
    for value, table, field in (
        (tag, "tags", "tag_id"),
        (build, "builds", "build_id"),
    ):
        if value is not None:
            tests.append(_equals(field, st.find(table, value, True, table[:-1])["id"]))
    if package is not None:
        package_id = st.find("packages", package, True, "package")["id"]
        tests.append(lambda row: st.builds[row["build_id"]]["package_id"] == package_id)
    if active is not None:
        tests.append(lambda row: (row["active"] is True) == bool(active))
    for name, value, is_before in (("before", before, True), ("after", after, False)):
        if value is not None:
            limit = epoch_seconds(value, name)
            marks[f"_%s_{name}"] = _comparison(
                limit, "create_ts", "revoke_ts", is_before
            )
    for name, value, is_before in (
        ("beforeEvent", beforeEvent, True),
        ("afterEvent", afterEvent, False),
    ):
        if value is not None:
            event = _event_id(value, name)
            template = "_%s_before_event" if is_before else "_%s_after_event"
            marks[template] = _comparison(
                event, "create_event", "revoke_event", is_before
            )
    if editor is not None:
        editor_id = st.find("users", editor, True, "user")["id"]

        def by_editor(row: Row) -> tuple[Any, Any]:
            revoker = row["revoker_id"]
            return (
                row["creator_id"] == editor_id,
                None if revoker is None else revoker == editor_id,
            )

        marks["_%s_by"] = by_editor
    rows = []
    for entry in sorted(
        st.tagged_builds, key=lambda e: (e["create_event"], e["tag_id"], e["build_id"])
    ):
        row = _listing_row(st, entry)
        if not all(test(row) for test in tests):
            continue
        for field_template, compare in marks.items():
            created_mark, revoked_mark = compare(row)
            row[field_template % "created"] = created_mark
            row[field_template % "revoked"] = revoked_mark
            if not _or(created_mark, revoked_mark):
                break
        else:
            rows.append(row)
    return {"tag_listing": rows}
