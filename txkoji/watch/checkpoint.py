"""Where a polling feed stands, as an opaque string to resume from.

A position holds, per stream of hub records (tasks created, started,
finished; builds created, finished; tag listing changes), the hub time
after which the next query looks (the *bound*), and what was already
reported after it: the queries overlap, so that records committed late
(a transaction's times are those of its start) are not missed, and what
was reported in the overlap must not be reported again.

A running feed keeps the exact keys reported in the overlap.  The string
it hands out (:meth:`Position.encode`) has a fixed size whatever the
event rate: per stream, the bound, the *last* event reported in the
feed's order (hub time, id, key), and a digest of the keys reported in
the overlap (their count and the XOR of their 64-bit hashes), both kept
up to date as keys come and go (:mod:`txkoji.watch.overlap`).  Resuming
relies on two facts about the feed:

* it reports each stream's events in the order (time, id, key), so an
  event after the last one reported was never reported: it is new;
* among the events at or before the last one, the hub now returns those
  reported (they stay in its tables) plus those committed too late to be
  seen when the checkpoint was made.  When the count and XOR match, none
  came late and all are skipped; when exactly one came late, the XOR of
  the hashes names it and it alone is reported.  With two or more late
  in the same stream between the checkpoint and the resume (never seen
  in practice: it takes two transactions open across the checkpoint), the
  digest cannot tell them apart: they are skipped and a warning is
  logged.  An event is never reported twice.

Only hub times are used: the client's clock never matters.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import reduce
from operator import xor
from typing import Any

from twisted.logger import Logger

from txkoji.exceptions import KojiException
from txkoji.watch.overlap import Order, Overlap, key_hash

__all__ = ["BadCheckpoint", "Digest", "Position", "key_hash"]

VERSION = 2


class BadCheckpoint(KojiException, ValueError):
    """A ``since=`` value is not a checkpoint of a txkoji feed."""


@dataclass(frozen=True)
class Digest:
    """What a checkpoint tells of a stream's overlap: the last event
    reported, and the count and XOR of the hashes of the keys reported
    after the bound."""

    last: Order
    count: int
    hashes: int

    def reported(self, candidates: Sequence[Order]) -> tuple[list[Order], int]:
        """Tell which ``candidates`` (events after the bound, at or before
        ``last``, as the hub returns them now) were reported.

        :returns: those reported, and how many late ones the digest could
            not single out (and which are counted as reported).
        """
        hashes = {order: key_hash(order[2]) for order in candidates}
        extra = reduce(xor, hashes.values(), 0) ^ self.hashes
        late = len(candidates) - self.count
        if late == 0 and extra == 0:
            return list(candidates), 0
        if late == 1:
            named = [order for order in candidates if hashes[order] == extra]
            if len(named) == 1:
                return [order for order in candidates if order != named[0]], 0
        return list(candidates), max(late, 1)


class Position:
    """Query lower bounds and what was reported after them, per stream.

    :param bounds: stream -> hub time (epoch seconds) the next query looks
        after.
    :param seen: stream -> {event key: its :data:`Order`}, the exact keys
        reported after the bound (held as an :class:`Overlap` in
        ``seen``).
    :param digests: stream -> :class:`Digest`, for a position read from a
        checkpoint: settled against the hub's rows by the first poll
        (:meth:`settle`).
    """

    log = Logger()

    def __init__(
        self,
        bounds: dict[str, float],
        seen: Mapping[str, Mapping[str, Order]] | None = None,
        digests: dict[str, Digest] | None = None,
    ) -> None:
        self.bounds = dict(bounds)
        self.seen = {stream: Overlap((seen or {}).get(stream)) for stream in bounds}
        self.digests = dict(digests or {})

    @classmethod
    def starting(cls, streams: Iterable[str], hub_time: float) -> Position:
        """The position of a feed starting at ``hub_time``."""
        return cls({stream: hub_time for stream in streams})

    def settle(self, stream: str, rows: Iterable[Order]) -> None:
        """Take the events the first poll after a resume found in
        ``stream``: those the checkpoint's digest tells were reported
        become known keys, the others stay new."""
        digest = self.digests.pop(stream, None)
        if digest is None:
            return
        bound = self.bounds[stream]
        candidates = sorted(
            {order for order in rows if bound < order[0] and order <= digest.last}
        )
        reported, unsure = digest.reported(candidates)
        if unsure:
            self.log.warn(
                "resuming the {stream} stream: {count} events committed late "
                "cannot be told apart from those reported; skipped",
                stream=stream,
                count=unsure,
            )
        seen = self.seen[stream]
        for order in reported:
            seen.add(order)
        if digest.last[0] > bound and digest.last[2] not in seen:
            # Anything at or before the last event was reported or just
            # settled: keep the last one known, so later digests stay whole.
            seen.add(digest.last)

    def is_new(self, stream: str, key: str) -> bool:
        """Whether the event ``key`` of ``stream`` was not reported yet."""
        return key not in self.seen[stream]

    def record(
        self, stream: str, key: str, when: float, overlap: float, ident: int = 0
    ) -> None:
        """Note an event reported: its key and place (``when``, ``ident``),
        and the bound it moves to (``overlap`` seconds before the event,
        never backwards); keys at or before the bound are dropped, as no
        query returns them."""
        seen = self.seen[stream]
        seen.add((when, ident, key))
        bound = when - overlap
        if bound > self.bounds[stream]:
            self.bounds[stream] = bound
            seen.expire(bound)

    def _digest(self, stream: str) -> list[Any]:
        """The checkpoint's row for ``stream``: kept up to date by
        :class:`Overlap`, so it costs the same whatever the overlap
        holds."""
        seen = self.seen[stream]
        pending = self.digests.get(stream)
        if pending is not None:  # not settled yet: the checkpoint's own
            last, count, hashes = pending.last, pending.count, pending.hashes
        elif (newest := seen.last) is not None:
            last, count, hashes = newest, len(seen), seen.hashes
        else:
            last, count, hashes = (self.bounds[stream], 0, ""), 0, 0
        return [self.bounds[stream], *last, count, f"{hashes:x}"]

    def encode(self) -> str:
        """The position as an opaque string of a fixed size (about 100
        bytes per stream)."""
        data = {"v": VERSION, "s": [self._digest(s) for s in self.bounds]}
        text = json.dumps(data, separators=(",", ":"))
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, checkpoint: Any, streams: Iterable[str]) -> Position:
        """Read a string made by :meth:`encode` for the same ``streams``.

        :raises BadCheckpoint: for anything else.
        """
        if not isinstance(checkpoint, str) or not checkpoint:
            raise BadCheckpoint(f"not a txkoji feed checkpoint: {checkpoint!r}")
        streams = list(streams)
        try:
            padded = checkpoint + "=" * (-len(checkpoint) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()))
            version = data["v"]
            if version == 1:
                return _version_1(data, streams)
            rows = data["s"]
            if len(rows) != len(streams):
                raise ValueError("streams differ")
            bounds: dict[str, float] = {}
            digests: dict[str, Digest] = {}
            for stream, row in zip(streams, rows, strict=True):
                bound, when, ident, key, count, hashes = row
                bounds[stream] = float(bound)
                last = (float(when), int(ident), str(key))
                digests[stream] = Digest(last, int(count), int(hashes, 16))
        except (binascii.Error, ValueError, KeyError, TypeError, AttributeError):
            raise BadCheckpoint(
                f"not a txkoji feed checkpoint (or one of a feed of other "
                f"streams): {checkpoint[:40]!r}"
            ) from None
        if version != VERSION:
            raise BadCheckpoint(f"feed checkpoint of unknown version {version!r}")
        return cls(bounds, digests=digests)


def _version_1(data: Any, streams: list[str]) -> Position:
    """A checkpoint of txkoji 0.11's first form: the keys reported in the
    overlap, each with its hub time."""
    bounds = {s: float(data["b"][s]) for s in streams}
    seen = {
        s: {str(k): (float(t), 0, str(k)) for k, t in data["s"][s].items()}
        for s in streams
    }
    return Position(bounds, seen)
