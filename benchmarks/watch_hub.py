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
import random
import sys
import time
from collections import defaultdict
from typing import Any

from twisted.internet import defer, task
from twisted.web.resource import Resource

from txkoji.codec import encode_call
from txkoji.testing import HubServer
from txkoji.testing.methods.tasks import _task_filter as task_filter
from txkoji.testing.records import task_row, time_pair
from txkoji.testing.state import apply_query_opts

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
    hub's speed is not what is measured), and add the benchmark's methods:
    ``benchmark.stats`` (requests and the hub's CPU seconds since the last
    ``benchmark.reset``) and ``benchmark.change(n)``, which closes ``n``
    OPEN children and gives as many parents a new FREE child, stamped with
    the present (1% of the trees changing per cycle: ``n`` = trees / 100).
    """
    state = hub.state
    children: dict[int, list[int]] = defaultdict(list)
    for tid in sorted(state.tasks):
        parent = state.tasks[tid]["parent"]
        if parent is not None:
            children[parent].append(tid)
    info = hub.methods.lookup("getTaskInfo").func
    list_tasks = hub.methods.lookup("listTasks").func
    rng = random.Random(0)
    cpu = [time.process_time()]

    def getTaskChildren(ctx, task_id, request=False, strict=False):
        return [info(ctx, tid, request) for tid in children.get(task_id, [])]

    def listTasks(ctx, opts=None, queryOpts=None):
        opts = dict(opts or {})
        parents = opts.pop("parent", None)
        if not isinstance(parents, list):
            if parents is not None:
                opts["parent"] = parents
            return list_tasks(ctx, opts, queryOpts)
        decode = bool(opts.pop("decode", False))
        wanted = task_filter(opts)
        found = [
            state.tasks[tid]
            for p in parents
            for tid in children.get(p, [])
            if wanted(state.tasks[tid])
        ]
        if (queryOpts or {}).get("countOnly"):
            return len(found)
        rows = []
        for task_ in found:
            row = info(ctx, task_["id"], True)
            owner = state.users[task_["owner"]]
            row.update(owner_name=owner["name"], owner_type=owner["usertype"])
            if not decode:  # as the hub stores them
                row["request"] = encode_call(row["method"], row["request"]).decode()
            row["result"] = None
            rows.append(row)
        return apply_query_opts(rows, queryOpts)

    def change(ctx, count):
        now = time.time()
        open_children = [
            t
            for t in state.tasks.values()
            if t["parent"] is not None and t["state"] == 1
        ]
        next_id = max(state.tasks) + 1
        for task_ in rng.sample(open_children, min(count, len(open_children))):
            task_["state"] = 2
            task_["completion_time"], task_["completion_ts"] = time_pair(now)
            new = dict(task_, id=next_id, state=0, result=None)
            new["create_time"], new["create_ts"] = time_pair(now)
            new["start_time"], new["start_ts"] = time_pair(None)
            new["completion_time"], new["completion_ts"] = time_pair(None)
            state.tasks[next_id] = new
            children[task_["parent"]].append(next_id)
            next_id += 1
        return True

    def stats(ctx):
        return {"requests": counter.requests - 1, "cpu": time.process_time() - cpu[0]}

    def reset(ctx):
        counter.requests = 0
        cpu[0] = time.process_time()
        return True

    hub.methods.register(getTaskChildren)
    hub.methods.register(listTasks)
    hub.methods.register(change, "benchmark.change")
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
