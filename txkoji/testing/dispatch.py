"""Hub method registration and dispatch.

Every hub method is a plain function whose first parameter is the
:class:`CallContext`; the remaining parameters are the hub method's own,
named and defaulted as on a real hub::

    @hub_method()
    def getPackage(ctx, info, strict=False):
        ...

    @hub_method("system.listMethods")
    def list_methods(ctx):
        ...

Calls are checked against that signature: a wrong count or an unknown
keyword is fault 1019 ParameterError, as on a real hub.  Parameters a real
hub has but the fake does not implement are absent from the signature, so
passing them is a ParameterError too, never silently ignored.

Methods raise :class:`txkoji.exceptions.KojiFault` subclasses (e.g.
``GenericError("No such build: 'x'")``) to answer with a fault.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from twisted.web.server import Request

from txkoji.codec import unpack_params
from txkoji.exceptions import GenericError, KojiFault, ParameterError
from txkoji.testing.files import HubFiles
from txkoji.testing.login_gate import LoginGate
from txkoji.testing.login_rules import LoginRules
from txkoji.testing.session_store import SessionStore
from txkoji.testing.simulator import HubSimulator
from txkoji.testing.state import HubState


class HubServices(Protocol):
    """What hub methods use of the hub serving them (a
    :class:`~txkoji.testing.hub.FakeHub`)."""

    methods: MethodTable
    sessions: SessionStore
    login_gate: LoginGate
    login_rules: LoginRules
    simulator: HubSimulator | None
    files: HubFiles

    def run(self, ctx: CallContext, method: str, params: list[Any]) -> Any:
        """Run hub method ``method`` (multicall sub-calls use this)."""

    def fault_entry(self, err: Exception, method: str) -> dict[str, Any]:
        """Return the multicall entry for a failed sub-call."""


@dataclass
class CallContext:
    """What a hub method may know about the call it serves.

    :ivar hub: the hub answering (a :class:`~txkoji.testing.hub.FakeHub`,
        seen through :class:`HubServices`).
    :ivar state: the hub's :class:`~txkoji.testing.state.HubState`.
    :ivar request: the ``twisted.web`` request carrying the call (headers,
        client address, TLS transport).
    :ivar method: the name of the top-level method called (for a
        multicall, ``system.multicall`` or ``multiCall``).
    :ivar session: the caller's session
        (:class:`~txkoji.testing.sessions.HubSession`); None for anonymous
        calls.
    :ivar callnum: the call number the request carried, if any.
    :ivar wrote: set once a write method succeeded in this call.
    """

    hub: HubServices
    state: HubState
    request: Request | None
    method: str
    session: Any = None
    callnum: int | None = None
    wrote: bool = False


@dataclass(frozen=True)
class HubMethod:
    """A registered hub method.

    :ivar name: the name callers use.
    :ivar func: the implementation, called as ``func(ctx, *args, **kwargs)``.
    :ivar write: True for methods that change hub data (the hub stores the
        session's call number only for those).
    """

    name: str
    func: Callable[..., Any]
    write: bool = False
    signature: inspect.Signature = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "signature", inspect.signature(self.func))

    def __call__(
        self, ctx: CallContext, args: list[Any], kwargs: dict[str, Any]
    ) -> Any:
        """Check the arguments against the signature, then run the method.

        :raises ParameterError: for a wrong count or unknown keyword.
        """
        try:
            self.signature.bind(ctx, *args, **kwargs)
        except TypeError as err:
            raise ParameterError(f"{self.name}: {err}") from err
        return self.func(ctx, *args, **kwargs)


class MethodTable:
    """A table of hub methods by name.

    :data:`DEFAULT_METHODS` holds the fake hub's own methods; each
    :class:`~txkoji.testing.hub.FakeHub` works on a copy, so a test can
    :meth:`register` an extra method on one hub without touching others.
    """

    def __init__(self, methods: dict[str, HubMethod] | None = None) -> None:
        self._methods: dict[str, HubMethod] = dict(methods or {})

    def register(
        self, func: Callable[..., Any], name: str | None = None, write: bool = False
    ) -> HubMethod:
        """Add ``func`` as hub method ``name`` (default: the function's name)
        and return its :class:`HubMethod`; replaces a method of that name."""
        method = HubMethod(name or func.__name__, func, write)
        self._methods[method.name] = method
        return method

    def method(
        self, name: str | None = None, write: bool = False
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator form of :meth:`register`; returns the function as is."""

        def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
            self.register(func, name, write)
            return func

        return decorate

    def lookup(self, name: str) -> HubMethod:
        """Return the method called ``name``.

        :raises GenericError: ``Invalid method: NAME`` when there is none.
        """
        try:
            return self._methods[name]
        except KeyError:
            raise GenericError(f"Invalid method: {name}") from None

    def copy(self) -> MethodTable:
        """Return an independent table with the same methods."""
        return MethodTable(self._methods)

    def __contains__(self, name: object) -> bool:
        return name in self._methods

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._methods))


#: The fake hub's own methods (filled by :mod:`txkoji.testing.methods`).
DEFAULT_METHODS = MethodTable()

#: Register a function as a method of every fake hub created afterwards:
#: ``@hub_method(name=None, write=False)``.
hub_method = DEFAULT_METHODS.method


def call_method(ctx: CallContext, name: str, params: list[Any]) -> Any:
    """Run hub method ``name`` of ``ctx.hub`` with XML-RPC ``params``
    (a trailing ``__starstar`` struct becomes keyword arguments).

    :returns: the method's result.
    :raises KojiFault: the fault the hub answers with.
    """
    method = ctx.hub.methods.lookup(name)
    args, kwargs = unpack_params(params)
    value = method(ctx, args, kwargs)
    if method.write:
        ctx.wrote = True
    return value


def fault_of(err: BaseException) -> tuple[int, str]:
    """Return the ``(faultCode, faultString)`` a hub answers for ``err``.

    Koji faults keep their code; any other exception is code 1 with the
    exception's class and message, as a real hub reports unexpected errors.
    """
    if isinstance(err, KojiFault):
        return err.faultCode, err.faultString
    return 1, f"{type(err)}: {err}"
