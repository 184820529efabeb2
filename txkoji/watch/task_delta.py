"""Seeing which children of watched tasks changed without fetching them
all: the queries of one poll request, and the proof that they missed
nothing.

The children of the tasks listed before (``parents``) are not fetched one
by one.  One request asks the hub instead:

* ``listTasks({"parent": parents, "state": [FREE, ASSIGNED]})``: every
  waiting child (a move between FREE and ASSIGNED sets no time stamp, so
  these are looked at every cycle);
* ``listTasks({"parent": parents, "startedAfter": T})`` and
  ``({"completeAfter": T})``: the children started or finished lately
  (OPEN sets ``start_time``, a finished state ``completion_time``);
* the number of OPEN children and the number of children
  (``queryOpts={"countOnly": True}``).

A child that none of the rows shows is taken to be unchanged, and the two
counts prove it: a finished task never changes again, so an unseen change
either left a task OPEN-to-finished (the OPEN count falls short) or
brought an unseen child (the total grows).  When the counts disagree (a
hub clock far from the client's, so that ``T`` was too late; or a change
between two calls of the request), the caller lists the children whole,
as before, and bounds the filters by hub times only from then on.
``T`` only decides how many rows come back: too early costs rows, too
late costs that second request; the events are the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from txkoji import task_states
from txkoji.estimates import HubCall

#: Seconds the time filters look back before the previous poll began, or
#: before the latest hub time seen (a transaction's times are those of its
#: start; hub and client clocks differ a little).
LOOK_BACK = 30.0

_WAITING = (task_states.FREE, task_states.ASSIGNED)

#: Fields of a ``listTasks`` row that a ``getTaskInfo`` record lacks.
LISTING_ONLY = ("request", "result", "owner_name", "owner_type")


def as_record(row: dict[str, Any]) -> dict[str, Any]:
    """Make a ``listTasks`` row of a known task like its ``getTaskInfo``
    record: without the listing's own fields (the watcher keeps the
    request it decoded when it adopted the task)."""
    for name in LISTING_ONLY:
        row.pop(name, None)
    return row


class ChildDelta:
    """The change queries for the children of ``parents``, and checking
    their answers.

    :param parents: ids of watched tasks whose children were listed before.
    :param children: the watched tasks known to be children of
        ``parents`` (nodes with ``.id`` and ``.task``), roots included.
    :param since: the hub time text the time filters start from.
    """

    #: How many calls :meth:`calls` makes.
    CALLS = 5

    def __init__(self, parents: Sequence[int], children: Iterable[Any], since: str):
        self.parents = list(parents)
        self.children = {node.id: node for node in children}
        self.since = since

    def calls(self) -> list[HubCall]:
        """The hub calls, in the order :meth:`rows` reads their answers."""
        parent = self.parents
        count = {"queryOpts": {"countOnly": True}}
        return [
            ("listTasks", ({"parent": parent, "state": list(_WAITING)},), {}),
            ("listTasks", ({"parent": parent, "startedAfter": self.since},), {}),
            ("listTasks", ({"parent": parent, "completeAfter": self.since},), {}),
            ("listTasks", ({"parent": parent, "state": [task_states.OPEN]},), count),
            ("listTasks", ({"parent": parent},), count),
        ]

    def fallback(self) -> HubCall:
        """The call listing every child (when :meth:`rows` cannot tell)."""
        return ("listTasks", ({"parent": self.parents},), {})

    def rows(
        self, answers: Sequence[Any], fetched: Mapping[int, Any]
    ) -> dict[int, dict[str, Any]] | None:
        """Return the rows of the children seen by the answers to
        :meth:`calls`, by id (the latest call's row when several show a
        task), or ``None`` when the counts do not prove that every change
        is among them.

        :param fetched: records of tasks fetched by ``getTaskInfo`` in the
            same request, by id (roots that are children of ``parents``).
        """
        waiting, started, finished, open_count, total = answers
        latest: dict[int, dict[str, Any]] = {}
        for rows in (waiting, started, finished):
            for row in rows:
                latest[row["id"]] = row
        seen_open = 0
        for task_id, node in self.children.items():
            row = latest.get(task_id) or fetched.get(task_id)
            if row is not None:
                state = row["state"]
            else:
                state = node.task["state"]
                if state in _WAITING:
                    return None  # no longer waiting: moved, but where to?
            if state == task_states.OPEN:
                seen_open += 1
        unknown = [row for i, row in latest.items() if i not in self.children]
        seen_open += sum(1 for row in unknown if row["state"] == task_states.OPEN)
        if seen_open != open_count or len(self.children) + len(unknown) != total:
            return None
        return latest
