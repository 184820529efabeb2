"""Sending a list of hub calls as one multicall request."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from txkoji.estimates import HubCall


async def call_all(connection: Any, calls: Sequence[HubCall]) -> list[Any]:
    """Send ``calls`` (``(method, args, kwargs)`` each) in one multicall
    request.

    :returns: one entry per call, in order: its typed value, or the
        exception instance of its fault.
    :raises KojiException: when the request itself fails (transport,
        protocol).
    """
    multicall = connection.MultiCall()
    for method, args, kwargs in calls:
        multicall.call(method, *args, **kwargs)
    answers = await multicall()
    return list(answers.results)
