"""A fake hub whose data moves: builds and tasks run as on a real hub.

::

    from twisted.internet.task import Clock
    from txkoji.testing import FakeHub
    from txkoji.testing.simulator import dataset_clock

    clock = dataset_clock()
    hub = FakeHub(clock)
    sim = hub.simulate(seed=1)
    task_id = sim.start_build("bash", outcome="complete")
    sim.advance(3600)                  # an hour of hub time, change by change
    hub.state.tasks[task_id]["state"]  # 2, CLOSED

* :class:`HubSimulator`: the public API (:meth:`~HubSimulator.start_build`,
  :meth:`~HubSimulator.cancel_task`, :meth:`~HubSimulator.tag_build`,
  :meth:`~HubSimulator.untag_build`, :meth:`~HubSimulator.advance`,
  :meth:`~HubSimulator.step`, :meth:`~HubSimulator.run`...).
* :func:`dataset_clock`: a ``Clock`` at the present of the bundled data.
* ``OUTCOMES``: how a simulated build may end.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twisted.internet.task import Clock

from txkoji.testing.dataset import load_dataset
from txkoji.testing.simulator.rpm_build import OUTCOMES
from txkoji.testing.simulator.simulation import HubSimulator


def dataset_clock(dataset: Mapping[str, Any] | None = None) -> Clock:
    """Return a :class:`~twisted.internet.task.Clock` set to the time of
    the last event of ``dataset`` (the bundled data set by default), so
    that what a hub on it does comes after the data's history."""
    data = load_dataset() if dataset is None else dataset
    clock = Clock()
    clock.advance(data["last_event"]["ts"])
    return clock


__all__ = ["OUTCOMES", "HubSimulator", "dataset_clock"]
