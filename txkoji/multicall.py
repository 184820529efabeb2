"""Batching hub calls into ``system.multicall`` requests.

::

    mc = koji.MultiCall()
    task = mc.getTaskInfo(1)        # a MultiCallResult handle
    mc.getBuild(2)
    results = yield mc()            # a KojiMultiCallIterator
    for value in results:           # raises each failed call's exception
        ...
    task.result                     # the same value, or raises

Each entry is typed by the same registry as a single call, and each fault
raised as the same exception class a single call would raise.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from twisted.internet import defer

from txkoji.codec import pack_params
from txkoji.exceptions import KojiException, KojiFault, KojiProtocolError, fault_for
from txkoji.results import result_type

_NOT_RUN = object()


class MultiCallNotRun(KojiException):
    """A :class:`MultiCallResult` was read before its multicall ran."""


class MultiCallResult:
    """The handle of one call queued in a :class:`MultiCall`.

    :ivar method: the hub method.
    """

    def __init__(self, method: str) -> None:
        self.method = method
        self._outcome: Any = _NOT_RUN

    def _settle(self, outcome: Any) -> None:
        self._outcome = outcome

    @property
    def result(self) -> Any:
        """The call's typed value.

        :raises MultiCallNotRun: before the multicall has run.
        :raises KojiFault: (the code's own subclass) when the call failed.
        """
        if self._outcome is _NOT_RUN:
            raise MultiCallNotRun(
                f"the multicall holding {self.method} has not run yet"
            )
        if isinstance(self._outcome, KojiFault):
            raise self._outcome
        return self._outcome

    def __repr__(self) -> str:
        state = "pending" if self._outcome is _NOT_RUN else "done"
        return f"<MultiCallResult {self.method} {state}>"


def settle_entry(
    entry: Any, method: str, connection: Any, params: list | None = None
) -> Any:
    """Turn one ``system.multicall`` answer entry into a typed value, or the
    exception instance of its fault.

    :param params: the call's params, which refine its result type
        (``getTaskInfo`` of a list of ids answers a list).

    :raises KojiProtocolError: when the entry is neither ``[value]`` nor a
        fault struct.
    """
    if isinstance(entry, list) and len(entry) == 1:
        return result_type(method, params).convert(entry[0], connection)
    if isinstance(entry, dict) and "faultCode" in entry:
        return fault_for(entry["faultCode"], entry.get("faultString", ""), method)
    raise KojiProtocolError(
        f"malformed multicall entry for {method}: {str(entry)[:100]!r}", method
    )


class KojiMultiCallIterator:
    """The results of a multicall, in call order.

    Indexing or iterating yields each call's typed value, or raises that
    call's exception (txkoji 0.10's behaviour).

    :param results: the entries, in call order: typed values, or the
        exception instances of the calls that failed.
    """

    def __init__(self, results: Sequence[Any]) -> None:
        self.results = list(results)

    def __getitem__(self, index: int) -> Any:
        item = self.results[index]
        if isinstance(item, KojiException):
            raise item
        return item

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[Any]:
        for index in range(len(self.results)):
            yield self[index]

    def __repr__(self) -> str:
        return f"<KojiMultiCallIterator of {len(self.results)} results>"


class MultiCall:
    """Calls queued to go to the hub together.

    Create with :meth:`txkoji.connection.Connection.MultiCall`.  Queue calls
    as attribute calls (``mc.getBuild(1)``) or with :meth:`call`; run them
    by calling the object.

    :param connection: the connection to send through.
    :param strict: when true, running fails with the first call's fault.
    :param batch: at most this many calls per request (requests go one after
        another); ``None`` for one request.
    """

    def __init__(
        self, connection: Any, strict: bool = False, batch: int | None = None
    ) -> None:
        if batch is not None and batch < 1:
            raise ValueError(f"batch must be a positive number of calls, not {batch}")
        self._connection = connection
        self.strict = strict
        self.batch = batch
        self._calls: list[tuple[str, list, MultiCallResult]] = []

    def call(self, method: str, *args: Any, **kwargs: Any) -> MultiCallResult:
        """Queue ``method(*args, **kwargs)``.

        :returns: the call's :class:`MultiCallResult` handle.
        """
        handle = MultiCallResult(method)
        self._calls.append((method, pack_params(args, kwargs), handle))
        return handle

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)

    def __len__(self) -> int:
        return len(self._calls)

    def __call__(self) -> defer.Deferred:
        """Send the queued calls.

        :returns: a Deferred firing with a :class:`KojiMultiCallIterator`
            (with no request at all when nothing is queued).  It fails with
            the first fault when ``strict``, or with a transport or protocol
            error when a request fails.
        """
        calls, self._calls = self._calls, []
        return defer.Deferred.fromCoroutine(self._run(calls))

    async def _run(self, calls: list) -> KojiMultiCallIterator:
        size = self.batch or len(calls) or 1
        outcomes: list[Any] = []
        for start in range(0, len(calls), size):
            chunk = calls[start : start + size]
            entries = await self._connection._multicall(
                [(method, params) for method, params, _ in chunk]
            )
            if len(entries) != len(chunk):
                raise KojiProtocolError(
                    f"the hub answered {len(entries)} results to a multicall "
                    f"of {len(chunk)} calls",
                    "system.multicall",
                )
            for (method, params, handle), entry in zip(chunk, entries, strict=True):
                outcome = settle_entry(entry, method, self._connection, params)
                handle._settle(outcome)
                outcomes.append(outcome)
        if self.strict:
            for outcome in outcomes:
                if isinstance(outcome, KojiFault):
                    raise outcome
        return KojiMultiCallIterator(outcomes)
