"""A fake hub for the watch benchmark: txkoji's fake hub (real XML-RPC,
real multicall) holding N open ``build`` tasks with 3 open children each,
with the task lookups the watch loops use indexed by id and parent, and
an HTTP request counter.

Run: ``python watch_hub.py N``; it prints ``{"url": URL}`` and serves
until terminated.  ``benchmark.stats`` answers ``{"requests": N}`` (not
counting itself) and ``benchmark.reset`` zeroes the counter.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from typing import Any

from twisted.internet import defer, task
from twisted.web.resource import Resource

from txkoji.codec import encode_call
from txkoji.testing import HubServer
from txkoji.testing.records import task_row

FIRST_ID = 1_000_000
CHILDREN = 3
CREATED = 1795170000.0


def add_tasks(state: Any, parents: int) -> None:
    """Add ``parents`` OPEN build tasks, each with ``CHILDREN`` OPEN
    buildArch children, to the hub's tasks."""
    owner = next(iter(state.users))
    for index in range(parents):
        root = FIRST_ID + index * (CHILDREN + 1)
        src = f"git+https://src.example.com/rpms/bash.git#{index:08x}"
        state.tasks[root] = task_row(
            root, "build", "OPEN", owner, [src, "f40-candidate", {}], CREATED, CREATED
        )
        for child in range(1, CHILDREN + 1):
            tid = root + child
            request = [f"tasks/{tid}/bash.src.rpm", 2, "x86_64", True, {}]
            state.tasks[tid] = task_row(
                tid,
                "buildArch",
                "OPEN",
                owner,
                request,
                CREATED,
                CREATED,
                arch="x86_64",
                label="x86_64",
                parent=root,
                host_id=1,
            )


class CountingHub(Resource):
    """Counts the POSTs to the hub it wraps."""

    isLeaf = True

    def __init__(self, hub: Any) -> None:
        super().__init__()
        self.hub = hub
        self.requests = 0

    def render(self, request: Any) -> Any:
        self.requests += 1
        return self.hub.render(request)


def index_lookups(hub: Any, counter: CountingHub) -> None:
    """Replace the fake hub's linear child scans with indexed ones (the
    hub's speed is not what is measured), and add the counter methods."""
    state = hub.state
    children: dict[int, list[int]] = defaultdict(list)
    for tid in sorted(state.tasks):
        parent = state.tasks[tid]["parent"]
        if parent is not None:
            children[parent].append(tid)
    info = hub.methods.lookup("getTaskInfo").func
    list_tasks = hub.methods.lookup("listTasks").func

    def getTaskChildren(ctx, task_id, request=False, strict=False):
        return [info(ctx, tid, request) for tid in children.get(task_id, [])]

    def listTasks(ctx, opts=None, queryOpts=None):
        opts = dict(opts or {})
        parents = opts.get("parent")
        if isinstance(parents, list) and set(opts) <= {"parent", "decode"}:
            rows = [
                info(ctx, tid, True) for p in parents for tid in children.get(p, [])
            ]
            for row in rows:  # as the hub stores them, unless decoded
                if not opts.get("decode"):
                    row["request"] = encode_call(row["method"], row["request"]).decode()
                row["result"] = None
            return rows
        return list_tasks(ctx, opts, queryOpts)

    def stats(ctx):
        return {"requests": counter.requests - 1}

    def reset(ctx):
        counter.requests = 0
        return True

    hub.methods.register(getTaskChildren)
    hub.methods.register(listTasks)
    hub.methods.register(stats, "benchmark.stats")
    hub.methods.register(reset, "benchmark.reset")


async def serve(reactor: Any, parents: int) -> None:
    server = HubServer(reactor)
    add_tasks(server.hub.state, parents)
    counter = CountingHub(server.hub)
    server.root.putChild(b"kojihub", counter)
    index_lookups(server.hub, counter)
    await server.start()
    print(json.dumps({"url": server.url}), flush=True)
    await defer.Deferred()


if __name__ == "__main__":
    task.react(lambda r: defer.ensureDeferred(serve(r, int(sys.argv[1]))))
