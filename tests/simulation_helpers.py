"""Helpers of the simulating fake hub tests: a hub on a Clock at the data
set's present, and hub calls made in process."""

from __future__ import annotations

from typing import Any

from txkoji.testing import FakeHub, HubSimulator
from txkoji.testing.dispatch import CallContext
from txkoji.testing.simulator import dataset_clock


def simulating_hub(seed: int = 0, **options: Any) -> tuple[FakeHub, HubSimulator]:
    """A fake hub on a Clock at the data set's present, and its simulator
    (``options``: those of :meth:`FakeHub.simulate`)."""
    hub = FakeHub(dataset_clock())
    return hub, hub.simulate(seed=seed, **options)


def call(hub: FakeHub, method: str, *args: Any, session: Any = None, **kwargs: Any):
    """Call hub method ``method`` of ``hub`` in process, as ``session``
    (None: anonymously), as the hub runs a call it received."""
    params = list(args) + ([{**kwargs, "__starstar": True}] if kwargs else [])
    ctx = CallContext(hub, hub.state, None, method, session=session)
    return hub.run(ctx, method, params)
