"""The overlap's digest kept up to date as keys come and go equals the one
recomputed from scratch, and checkpoints are byte for byte those of the
digest recomputed for every event."""

from __future__ import annotations

import base64
import json
from functools import reduce
from operator import xor

from hypothesis import given
from hypothesis import strategies as st

from txkoji.watch.checkpoint import VERSION, Position
from txkoji.watch.overlap import Order, Overlap, key_hash

START = 1_733_500_000.0
STREAMS = ["task-created", "task-finished"]

# Few keys, times and ids: keys come back, replace one another and tie.
keys = st.sampled_from([f"{n}:key" for n in range(8)])
times = st.integers(0, 40).map(lambda n: START + n / 2)
idents = st.integers(0, 3)
adds = st.tuples(st.just("add"), st.tuples(times, idents, keys))
expires = st.tuples(st.just("expire"), times)


def scratch(orders: dict[str, Order]) -> tuple[Order | None, int, int]:
    """Last order, count and XOR of hashes, computed from every key."""
    last = max(orders.values(), default=None)
    return last, len(orders), reduce(xor, (key_hash(k) for k in orders), 0)


@given(st.lists(st.one_of(adds, expires), max_size=60))
def test_digest_kept_up_to_date_equals_the_one_from_scratch(operations):
    overlap = Overlap()
    model: dict[str, Order] = {}
    for name, argument in operations:
        if name == "add":
            overlap.add(argument)
            model[argument[2]] = argument
        else:
            overlap.expire(argument)
            model = {k: o for k, o in model.items() if o[0] > argument}
        assert dict(overlap) == model
        assert (overlap.last, len(overlap), overlap.hashes) == scratch(model)


def old_encode(bounds: dict[str, float], seen: dict[str, dict[str, Order]]) -> str:
    """A checkpoint with every stream's digest recomputed from its keys."""
    rows = []
    for stream, bound in bounds.items():
        last, count, hashes = scratch(seen[stream])
        rows.append([bound, *(last or (bound, 0, "")), count, f"{hashes:x}"])
    text = json.dumps({"v": VERSION, "s": rows}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


records = st.tuples(
    st.sampled_from(STREAMS), keys, times, idents, st.sampled_from([0.5, 3.0, 300.0])
)


@given(st.lists(records, max_size=60))
def test_checkpoints_are_those_of_the_digest_from_scratch(calls):
    position = Position.starting(STREAMS, START)
    bounds = dict.fromkeys(STREAMS, START)
    seen: dict[str, dict[str, Order]] = {s: {} for s in STREAMS}
    for stream, key, when, ident, overlap in calls:
        position.record(stream, key, when, overlap, ident)
        seen[stream][key] = (when, ident, key)
        if when - overlap > bounds[stream]:
            bounds[stream] = when - overlap
            seen[stream] = {
                k: o for k, o in seen[stream].items() if o[0] > bounds[stream]
            }
        assert position.encode() == old_encode(bounds, seen)


def test_a_position_built_from_keys_digests_them_all():
    orders = {f"{n}:key": (START + n, n, f"{n}:key") for n in range(5)}
    position = Position({"task-created": START}, {"task-created": orders})
    assert position.encode() == old_encode(
        {"task-created": START}, {"task-created": orders}
    )
