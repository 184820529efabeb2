"""txkoji 0.10's ``test_task.py``: ``getTaskInfo``, ``listTasks`` and the
``Task`` class."""

from datetime import datetime, timedelta, timezone

import pytest_twisted
from munch import Munch

from txkoji import task_states
from txkoji.task import Task

DURATION = timedelta(seconds=138, microseconds=577600)


@pytest_twisted.ensureDeferred
async def test_get_task_info(koji):
    task = await koji.getTaskInfo(291929)
    assert isinstance(task, Task)
    assert task.state == task_states.CLOSED
    assert task.state_name == "CLOSED"
    assert task.channel.id == 1
    assert task.duration == DURATION
    assert task.package == "ceph-ansible"
    assert task.url == "https://koji.example.com/koji/taskinfo?taskID=291929"
    assert task.is_scratch is False


@pytest_twisted.ensureDeferred
async def test_finished_task_estimates_are_its_real_times(koji):
    task = await koji.getTaskInfo(291929)
    duration = await task.estimate_duration()
    assert duration == DURATION == task.duration
    completion = await task.estimate_completion()
    # Timezone-aware UTC where 0.10 gave naive UTC datetimes.
    assert completion == datetime(2018, 1, 12, 16, 18, 43, 236640, timezone.utc)
    assert completion == task.completed


@pytest_twisted.ensureDeferred
async def test_list_tasks(koji):
    tasks = await koji.listTasks({"owner": 144, "method": "build"})
    assert isinstance(tasks, list)
    assert len(tasks) > 0
    for task in tasks:
        assert isinstance(task, Munch)
        assert isinstance(task, Task)
    assert tasks[0].state == task_states.FAILED
