"""Where a polling feed stands, as an opaque string to resume from.

A position holds, per stream of hub records (tasks created, started,
finished; builds created, finished; tag listing changes), the hub time
after which the next query looks, and the keys of the events already
reported at or after that time (the queries overlap, so that records
committed late are not missed; the keys keep the overlap from repeating
events).  Only hub times are used: the client's clock never matters.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from typing import Any

from txkoji.exceptions import KojiException

VERSION = 1


class BadCheckpoint(KojiException, ValueError):
    """A ``since=`` value is not a checkpoint of a txkoji feed."""


class Position:
    """Query lower bounds and reported keys, per stream.

    :param bounds: stream -> hub time (epoch seconds) the next query looks
        after.
    :param seen: stream -> {event key: hub time of the event}.
    """

    def __init__(
        self,
        bounds: dict[str, float],
        seen: dict[str, dict[str, float]] | None = None,
    ) -> None:
        self.bounds = dict(bounds)
        self.seen = {stream: dict((seen or {}).get(stream, {})) for stream in bounds}

    @classmethod
    def starting(cls, streams: Iterable[str], hub_time: float) -> Position:
        """The position of a feed starting at ``hub_time``."""
        return cls({stream: hub_time for stream in streams})

    def is_new(self, stream: str, key: str) -> bool:
        """Whether the event ``key`` of ``stream`` was not reported yet."""
        return key not in self.seen[stream]

    def record(self, stream: str, key: str, when: float, overlap: float) -> None:
        """Note an event reported: its key, and the bound it moves to
        (``overlap`` seconds before the event, never backwards); keys
        older than the bound are dropped, as no query returns them."""
        seen = self.seen[stream]
        seen[key] = when
        bound = when - overlap
        if bound > self.bounds[stream]:
            self.bounds[stream] = bound
            for old in [k for k, t in seen.items() if t <= bound]:
                del seen[old]

    def encode(self) -> str:
        """The position as an opaque string."""
        data = {"v": VERSION, "b": self.bounds, "s": self.seen}
        text = json.dumps(data, separators=(",", ":"), sort_keys=True)
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, checkpoint: Any, streams: Iterable[str]) -> Position:
        """Read a string made by :meth:`encode` for the same ``streams``.

        :raises BadCheckpoint: for anything else.
        """
        if not isinstance(checkpoint, str) or not checkpoint:
            raise BadCheckpoint(f"not a txkoji feed checkpoint: {checkpoint!r}")
        try:
            padded = checkpoint + "=" * (-len(checkpoint) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()))
            bounds = {s: float(data["b"][s]) for s in streams}
            seen = {
                s: {str(k): float(t) for k, t in data["s"][s].items()} for s in streams
            }
            version = data["v"]
        except (binascii.Error, ValueError, KeyError, TypeError, AttributeError):
            raise BadCheckpoint(
                f"not a txkoji feed checkpoint (or one of a feed of other "
                f"streams): {checkpoint[:40]!r}"
            ) from None
        if version != VERSION:
            raise BadCheckpoint(f"feed checkpoint of unknown version {version!r}")
        return cls(bounds, seen)
