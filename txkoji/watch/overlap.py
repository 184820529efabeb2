"""The events of one feed stream reported after its bound (its overlap),
with what a checkpoint tells of them kept up to date as they come and go.

A feed hands out a checkpoint with every event: the count of the keys in
the overlap, the XOR of their hashes and the last event in the feed's
order.  :class:`Overlap` updates the three as keys are added and as they
drop out behind the bound, so a checkpoint costs the same whatever the
overlap holds (at 50 events a second, some 15,000 keys).
"""

from __future__ import annotations

import hashlib
from collections.abc import ItemsView, Iterator, KeysView, Mapping, ValuesView
from heapq import heappop, heappush

#: An event's place in its stream's order: hub time, id, key.
Order = tuple[float, int, str]


def key_hash(key: str) -> int:
    """The 64-bit hash of an event key that digests are made of."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")


class Overlap(Mapping[str, Order]):
    """Event key -> its :data:`Order`, for the events of one stream
    reported after the bound; read like a ``dict``, changed by :meth:`add`
    and :meth:`expire` only.

    :param orders: the events it starts with, as ``{key: order}`` (the key
        is the order's third item).
    """

    __slots__ = ("_expiry", "_last", "_orders", "hashes")

    def __init__(self, orders: Mapping[str, Order] | None = None) -> None:
        self._orders: dict[str, Order] = {}
        # Every order added, smallest first, for :meth:`expire`; an entry
        # whose key was added again with another order is skipped there.
        self._expiry: list[Order] = []
        # The greatest order, or None when unknown (it was removed):
        # found again when asked for.
        self._last: Order | None = None
        #: The XOR of the hashes (:func:`key_hash`) of the keys held.
        self.hashes = 0
        for order in (orders or {}).values():
            self.add(order)

    def add(self, order: Order) -> None:
        """Hold the event ``order`` (replacing the order its key had)."""
        key = order[2]
        old = self._orders.get(key)
        if old == order:
            return
        if old is None:
            self.hashes ^= key_hash(key)
        elif old == self._last:
            self._last = None
        empty = not self._orders
        self._orders[key] = order
        heappush(self._expiry, order)
        if empty or (self._last is not None and order > self._last):
            self._last = order

    def expire(self, bound: float) -> None:
        """Drop the events at or before hub time ``bound``."""
        expiry = self._expiry
        while expiry and expiry[0][0] <= bound:
            order = heappop(expiry)
            key = order[2]
            if self._orders.get(key) == order:
                del self._orders[key]
                self.hashes ^= key_hash(key)
                if order == self._last:
                    self._last = None

    @property
    def last(self) -> Order | None:
        """The greatest order held (the last event in the feed's order),
        or None when empty."""
        if self._last is None and self._orders:
            self._last = max(self._orders.values())
        return self._last

    def __getitem__(self, key: str) -> Order:
        return self._orders[key]

    def __contains__(self, key: object) -> bool:
        return key in self._orders

    def __iter__(self) -> Iterator[str]:
        return iter(self._orders)

    def __len__(self) -> int:
        return len(self._orders)

    def keys(self) -> KeysView[str]:
        """The keys held."""
        return self._orders.keys()

    def values(self) -> ValuesView[Order]:
        """The orders held."""
        return self._orders.values()

    def items(self) -> ItemsView[str, Order]:
        """The ``(key, order)`` pairs held."""
        return self._orders.items()

    def __repr__(self) -> str:
        return f"Overlap({self._orders!r})"
