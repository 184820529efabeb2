"""txkoji 0.10's ``test_build.py``: ``getBuild`` and the ``Build`` class."""

from datetime import datetime, timedelta, timezone

import pytest_twisted

from txkoji import build_states
from txkoji.build import Build

BUILD_URL = "https://koji.example.com/koji/buildinfo?buildID=24284"


@pytest_twisted.ensureDeferred
async def test_get_build(koji):
    build = await koji.getBuild(24284)
    assert isinstance(build, Build)
    assert build.state == build_states.COMPLETE
    assert build.duration == timedelta(seconds=139, microseconds=239820)
    assert build.package_name == "ceph-ansible"
    assert build.url == BUILD_URL
    # The recorded build has no source URL.
    assert build.gitbuildhash is None


@pytest_twisted.ensureDeferred
async def test_finished_build_estimate_is_its_completion(koji):
    build = await koji.getBuild(24284)
    estimate = await build.estimate_completion()
    # 0.10 gave naive UTC datetimes; txkoji's are timezone-aware UTC (see
    # the README's "Moving from txkoji 0.10").
    assert estimate == datetime(2018, 9, 26, 13, 59, 43, 905240, timezone.utc)
    assert estimate == build.completed
