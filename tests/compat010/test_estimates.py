"""txkoji 0.10's ``test_estimates.py``."""

from datetime import timedelta

import pytest_twisted

from txkoji.estimates import average_build_duration, average_build_durations

AVERAGE = timedelta(seconds=143, microseconds=401978)


@pytest_twisted.ensureDeferred
async def test_average_build_duration(koji):
    assert await average_build_duration(koji, "ceph-ansible") == AVERAGE


@pytest_twisted.ensureDeferred
async def test_average_build_durations(koji):
    assert await average_build_durations(koji, ["ceph-ansible"]) == [AVERAGE]
