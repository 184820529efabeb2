"""txkoji 0.10's ``test_channel.py``: ``getChannel``, ``listChannels`` and
the ``Channel`` class."""

import pytest_twisted

from txkoji import Connection
from txkoji.channel import Channel

ENABLED_HOSTS = [
    {
        "arches": "x86_64 i386",
        "capacity": 16.0,
        "comment": None,
        "description": None,
        "enabled": True,
        "id": 1,
        "name": "x86_64-0.centos.org",
        "ready": True,
        "task_load": 0.0,
        "user_id": 7,
    },
    {
        "arches": "x86_64 i386",
        "capacity": 30.0,
        "comment": None,
        "description": None,
        "enabled": True,
        "id": 3,
        "name": "x86_64-2.cbs.centos.org",
        "ready": True,
        "task_load": 0.0,
        "user_id": 49,
    },
]


@pytest_twisted.ensureDeferred
async def test_get_channel(koji):
    channel = await koji.getChannel(2)
    assert isinstance(channel, Channel)
    assert channel.id == 2
    assert channel.name == "createrepo"
    assert isinstance(channel.connection, Connection)


@pytest_twisted.ensureDeferred
async def test_channel_hosts(koji):
    channel = await koji.getChannel(2)
    hosts = await channel.hosts(enabled=True)
    assert hosts == ENABLED_HOSTS


@pytest_twisted.ensureDeferred
async def test_list_channels(koji):
    channels = await koji.listChannels()
    assert isinstance(channels, list)
    first = channels[0]
    assert first.id == 1
    assert first.name == "default"
    assert isinstance(first.connection, Connection)
