"""The hub answers txkoji 0.10's test suite was written against: calls to
a CentOS CBS hub, recorded as JSON files next to 0.10's tests (trimmed
here to the fields and entries its assertions read).

0.10's tests replaced the connection's private XML-RPC proxy with one that
answered each method from these recordings whatever the arguments.  Here
a fake hub (:mod:`txkoji.testing`) answers them instead, over loopback
HTTP, so the library under test is used only through public names.
"""

from __future__ import annotations

import copy
from typing import Any

from txkoji.testing import FakeHub

HUB = "https://hub.example.com/kojihub"
WEB = "https://koji.example.com/koji"

#: The ``mykoji`` profile of 0.10's tests (``fixtures/mykoji.conf``).
MYKOJI_CONF = f"""\
[mykoji]
server = {HUB}
authtype = kerberos
krbservice = kojihub
topdir = /mnt/redhat/brewroot
weburl = {WEB}
topurl = http://hub.example.com/kojiroot
use_fast_upload = yes
anon_retry = yes
"""

_CEPH_ANSIBLE_BUILD = {
    "id": 24284,
    "build_id": 24284,
    "package_id": 3726,
    "package_name": "ceph-ansible",
    "name": "ceph-ansible",
    "version": "3.1.7",
    "release": "1.el7",
    "epoch": None,
    "nvr": "ceph-ansible-3.1.7-1.el7",
    "state": 1,
    "task_id": 561934,
    "owner_id": 144,
    "owner_name": "ktdreyer",
    "source": None,
    "extra": None,
    "volume_id": 0,
    "volume_name": "DEFAULT",
    "creation_event_id": 457129,
    "creation_time": "2018-09-26 13:57:24.665416",
    "creation_ts": 1537970244.66542,
    "start_time": "2018-09-26 13:57:24.665416",
    "start_ts": 1537970244.66542,
    "completion_time": "2018-09-26 13:59:43.905235",
    "completion_ts": 1537970383.90524,
}

_CLI_BUILD_TASK = {
    "id": 291929,
    "method": "build",
    "arch": "noarch",
    "state": 2,
    "owner": 144,
    "host_id": 2,
    "channel_id": 1,
    "parent": None,
    "label": None,
    "priority": 20,
    "weight": 0.2,
    "waiting": False,
    "awaited": None,
    "request": [
        "cli-build/1515773778.916323.qZGLNqIz/ceph-ansible-3.1.0beta2-1.el7.src.rpm",
        "storage7-ceph-jewel-el7",
        {},
    ],
    "create_time": "2018-01-12 16:16:19.543",
    "create_ts": 1515773779.543,
    "start_time": "2018-01-12 16:16:24.65904",
    "start_ts": 1515773784.65904,
    "completion_time": "2018-01-12 16:18:43.23664",
    "completion_ts": 1515773923.23664,
}


def _failed_build_task(task_id: int, host_id: int, created: float) -> dict[str, Any]:
    """One of the failed ``build`` tasks of ``listTasks.json``."""
    return {
        "id": task_id,
        "method": "build",
        "arch": "noarch",
        "state": 5,
        "owner": 144,
        "owner_name": "ktdreyer",
        "owner_type": 0,
        "host_id": host_id,
        "channel_id": 1,
        "parent": None,
        "label": None,
        "priority": 20,
        "weight": 0.2,
        "waiting": True,
        "awaited": None,
        "request": [
            f"cli-build/{created}.DzmWpUwd/ceph-ansible-3.0.18-1.el7.src.rpm",
            "storage7-ceph-jewel-el7",
            {},
        ],
        "result": {
            "faultCode": 1005,
            "faultString": "error building package (arch noarch), mock exited "
            "with status 30; see root.log for more information",
        },
        "create_ts": created,
        "start_ts": created + 2,
        "completion_ts": created + 126,
    }


def _host(host_id: int, name: str, capacity: float, user_id: int) -> dict[str, Any]:
    return {
        "id": host_id,
        "name": name,
        "arches": "x86_64 i386",
        "capacity": capacity,
        "comment": None,
        "description": None,
        "enabled": True,
        "ready": True,
        "task_load": 0.0,
        "user_id": user_id,
    }


#: Method name -> the recorded answer.
ANSWERS: dict[str, Any] = {
    "getAverageBuildDuration": 143.401978,
    "getBuild": _CEPH_ANSIBLE_BUILD,
    "getChannel": {"id": 2, "name": "createrepo"},
    "getLoggedInUser": {
        "id": 144,
        "name": "ktdreyer",
        "status": 0,
        "usertype": 0,
        "authtype": 2,
        "krb_principal": None,
    },
    "getTaskInfo": _CLI_BUILD_TASK,
    "getUser": {
        "id": 2826,
        "name": "kdreyer",
        "status": 0,
        "usertype": 0,
        "krb_principal": "kdreyer@EXAMPLE.COM",
    },
    "listChannels": [
        {"id": number, "name": name}
        for number, name in enumerate(
            ["default", "createrepo", "maven", "livecd", "appliance", "vm", "image"],
            start=1,
        )
    ],
    "listHosts": [
        _host(1, "x86_64-0.centos.org", 16.0, 7),
        _host(3, "x86_64-2.cbs.centos.org", 30.0, 49),
    ],
    "listTasks": [
        _failed_build_task(301097, 2, 1516564943.84407),
        _failed_build_task(301099, 2, 1516568484.94112),
    ],
}


#: Methods that answer only a logged-in session (``None`` otherwise, as a
#: real hub's ``getLoggedInUser`` does).
SESSION_ONLY = frozenset({"getLoggedInUser"})


def recorded_hub() -> FakeHub:
    """A fake hub whose methods in :data:`ANSWERS` give their recorded
    answer, whatever the arguments (as 0.10's fake proxy did); the other
    methods, and logins, are the fake hub's own."""
    hub = FakeHub()
    for name, answer in ANSWERS.items():

        def recorded(
            ctx: Any, *args: Any, _answer: Any = answer, _name: str = name, **kw: Any
        ) -> Any:
            if _name in SESSION_ONLY and ctx.session is None:
                return None
            return copy.deepcopy(_answer)

        hub.methods.register(recorded, name)
    return hub
