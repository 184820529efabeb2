"""Hub-wide methods: versions, events, method listing and multicall."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from txkoji.exceptions import GenericError, ParameterError
from txkoji.testing.dispatch import DEFAULT_METHODS, CallContext, hub_method
from txkoji.testing.hub import KOJI_VERSION
from txkoji.testing.state import epoch_seconds

#: Koji's API version (``koji.API_VERSION``).
API_VERSION = 1


@hub_method()
def getAPIVersion(ctx: CallContext) -> int:
    """Return the hub's API version."""
    return API_VERSION


@hub_method()
def getKojiVersion(ctx: CallContext) -> str:
    """Return the hub's Koji version."""
    return KOJI_VERSION


@hub_method()
def getLastEvent(ctx: CallContext, before: Any = None) -> dict[str, Any]:
    """Return the newest event, ``{id, ts}``; with ``before`` (epoch
    seconds or an ISO string), the newest event strictly before then.

    :raises ParameterError: for a ``before`` that is no time.
    """
    if before is None:
        return dict(ctx.state.last_event)
    return ctx.state.event_before(epoch_seconds(before, "before"))


@hub_method("system.listMethods")
def listMethods(ctx: CallContext) -> list[str]:
    """Return the names of this hub's methods, sorted."""
    return list(ctx.hub.methods)


def multicall(ctx: CallContext, calls: Any) -> list[Any]:
    """Run each ``{methodName, params}`` of ``calls`` in order.

    :returns: per call, ``[value]`` on success or ``{faultCode,
        faultString, traceback}`` on failure; one failure does not stop
        the others.
    """
    if not isinstance(calls, list):
        raise ParameterError(f"multicall expects a list of calls, not {calls!r}")
    results: list[Any] = []
    for call in calls:
        name = call.get("methodName") if isinstance(call, Mapping) else None
        try:
            params = call.get("params", []) if isinstance(call, Mapping) else None
            if not isinstance(name, str) or not isinstance(params, list):
                raise GenericError(f"Invalid multicall entry: {call!r}")
            results.append([ctx.hub.run(ctx, name, params)])
        except Exception as err:
            results.append(ctx.hub.fault_entry(err, str(name)))
    return results


DEFAULT_METHODS.register(multicall, "system.multicall")
DEFAULT_METHODS.register(multicall, "multiCall")
