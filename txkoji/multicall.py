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

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from twisted.internet import defer

from txkoji.exceptions import KojiException, KojiProtocolError, fault_for
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

    @property
    def result(self) -> Any:
        """The call's typed value.

        :raises MultiCallNotRun: before the multicall has run.
        :raises KojiFault: (the code's own subclass) when the call failed.
        :raises KojiProtocolError: when the hub's entry for the call was
            malformed.
        """
        if self._outcome is _NOT_RUN:
            raise MultiCallNotRun(
                f"the multicall holding {self.method} has not run yet"
            )
        if isinstance(self._outcome, KojiException):
            raise self._outcome
        return self._outcome

    def __repr__(self) -> str:
        state = "pending" if self._outcome is _NOT_RUN else "done"
        return f"<MultiCallResult {self.method} {state}>"


def entry_outcome(
    entry: Any, method: str, params: list[Any] | None, connection: Any
) -> Any:
    """Turn one ``system.multicall`` answer entry into its call's outcome.

    :param params: the call's packed params (they decide some answers'
        shape, e.g. ``countOnly``), or ``None`` when unknown.
    :returns: the typed value (as a single call would give it); or the
        exception instance of the call's fault; or a
        :class:`~txkoji.exceptions.KojiProtocolError` instance naming
        ``method`` when the entry is neither ``[value]`` nor a fault struct
        with an int ``faultCode`` and a string ``faultString``, or its value
        has the wrong shape for ``method``.
    """
    if isinstance(entry, list) and len(entry) == 1:
        try:
            return result_type(method, params).convert(entry[0], connection)
        except KojiProtocolError as error:
            return error
    if isinstance(entry, dict) and "faultCode" in entry:
        code = entry["faultCode"]
        string = entry.get("faultString", "")
        if type(code) is int and isinstance(string, str):
            return fault_for(code, string, method)
        return KojiProtocolError(
            f"malformed multicall fault for {method}: a fault needs an int "
            f"faultCode and a string faultString, not {str(entry)[:100]!r}",
            method,
        )
    return KojiProtocolError(
        f"malformed multicall entry for {method}: {str(entry)[:100]!r}", method
    )


def settle_entries(
    entries: Any, calls: Sequence[tuple[str, list[Any] | None]], connection: Any
) -> list[Any]:
    """Check a ``system.multicall`` answer and turn each entry into its
    call's outcome (see :func:`entry_outcome`: a malformed entry fails only
    its own call).

    :param entries: the decoded answer.
    :param calls: each call's ``(method, packed params)``, in call order.
    :returns: one typed value or exception instance per call.
    :raises KojiProtocolError: when the answer is not a list of one entry
        per call.
    """
    if not isinstance(entries, list):
        raise KojiProtocolError(
            f"the hub answered a multicall of {len(calls)} calls with "
            f"{type(entries).__name__} {str(entries)[:100]!r}, not a list",
            "system.multicall",
        )
    if len(entries) != len(calls):
        raise KojiProtocolError(
            f"the hub answered {len(entries)} results to a multicall "
            f"of {len(calls)} calls",
            "system.multicall",
        )
    return [
        entry_outcome(entry, method, params, connection)
        for entry, (method, params) in zip(entries, calls, strict=True)
    ]


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
        self._calls: list[
            tuple[str, tuple[Any, ...], dict[str, Any], MultiCallResult]
        ] = []

    def call(self, method: str, *args: Any, **kwargs: Any) -> MultiCallResult:
        """Queue ``method(*args, **kwargs)``.

        :returns: the call's :class:`MultiCallResult` handle.
        """
        handle = MultiCallResult(method)
        self._calls.append((method, args, kwargs, handle))
        return handle

    def __getattr__(self, name: str) -> Callable[..., MultiCallResult]:
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)

    def __len__(self) -> int:
        return len(self._calls)

    def __call__(self) -> defer.Deferred[Any]:
        """Send the queued calls.

        :returns: a Deferred firing with a :class:`KojiMultiCallIterator`
            (with no request at all when nothing is queued).  It fails with
            the first fault when ``strict``, or with a transport or protocol
            error when a request fails.
        """
        calls, self._calls = self._calls, []
        return defer.Deferred.fromCoroutine(self._run(calls))

    async def _run(self, calls: list[Any]) -> KojiMultiCallIterator:
        size = self.batch or len(calls) or 1
        outcomes: list[Any] = []
        for start in range(0, len(calls), size):
            chunk = calls[start : start + size]
            settled = await self._connection.multicall(
                [(method, args, kwargs) for method, args, kwargs, _ in chunk]
            )
            for (*_, handle), outcome in zip(chunk, settled, strict=True):
                handle._outcome = outcome
                outcomes.append(outcome)
        if self.strict:
            for outcome in outcomes:
                if isinstance(outcome, KojiException):
                    raise outcome
        return KojiMultiCallIterator(outcomes)
