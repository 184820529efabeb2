"""Realistic, pre-serialized Koji hub answers for the benchmark hub.

Every answer is built once, as the bytes of an XML-RPC ``methodResponse`` in
Koji's dialect (``<nil/>`` for None, ``<i8>`` past 32 bits), so the hub
spends nothing on serialization and the client's cost dominates.

Only the standard library is used: this module is imported by the hub
process and by clients running in the competitors' virtualenvs.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

#: How many builds go into the ~10 MB ``listBuilds`` answer.
LIST_BUILDS_TARGET_BYTES = 10 * 1000 * 1000

#: How many ``getBuild`` calls the benchmark's multicall holds.
MULTICALL_SIZE = 1000


def _value(obj: object, out: list[str]) -> None:
    """Append the XML-RPC ``<value>`` of ``obj`` to ``out``."""
    if obj is None:
        out.append("<value><nil/></value>")
    elif obj is True or obj is False:
        out.append(f"<value><boolean>{int(obj)}</boolean></value>")
    elif isinstance(obj, int):
        tag = "int" if INT32_MIN <= obj <= INT32_MAX else "i8"
        out.append(f"<value><{tag}>{obj}</{tag}></value>")
    elif isinstance(obj, float):
        out.append(f"<value><double>{obj!r}</double></value>")
    elif isinstance(obj, str):
        out.append(f"<value><string>{escape(obj)}</string></value>")
    elif isinstance(obj, (list, tuple)):
        out.append("<value><array><data>")
        for item in obj:
            _value(item, out)
        out.append("</data></array></value>")
    elif isinstance(obj, dict):
        out.append("<value><struct>")
        for key, item in obj.items():
            out.append(f"<member><name>{escape(key)}</name>")
            _value(item, out)
            out.append("</member>")
        out.append("</struct></value>")
    else:
        raise TypeError(f"cannot serialize {type(obj).__name__}")


RESPONSE_HEAD = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n"
RESPONSE_TAIL = "\n</param>\n</params>\n</methodResponse>\n"


def value_xml(obj: object) -> str:
    """Return the ``<value>`` element of ``obj``."""
    out: list[str] = []
    _value(obj, out)
    return "".join(out)


def response(obj: object) -> bytes:
    """Return the ``methodResponse`` document answering ``obj``."""
    return (RESPONSE_HEAD + value_xml(obj) + RESPONSE_TAIL).encode("utf-8")


def multicall_response(methods: list[str], values: dict[str, str]) -> bytes:
    """Answer a ``system.multicall`` of ``methods`` from ``values`` (method
    name to ``<value>`` XML); unknown methods get a fault entry."""
    out = [RESPONSE_HEAD, "<value><array><data>"]
    for method in methods:
        value = values.get(method)
        if value is None:
            _value(
                {
                    "faultCode": 1000,
                    "faultString": f"Invalid method: {method}",
                    "traceback": "",
                },
                out,
            )
        else:
            out.append(f"<value><array><data>{value}</data></array></value>")
    out.append("</data></array></value>" + RESPONSE_TAIL)
    return "".join(out).encode("utf-8")


def fault(code: int, message: str) -> bytes:
    """Return the ``methodResponse`` document of fault ``code``."""
    out = ["<?xml version='1.0'?>\n<methodResponse>\n<fault>\n"]
    _value({"faultCode": code, "faultString": message}, out)
    out.append("\n</fault>\n</methodResponse>\n")
    return "".join(out).encode("utf-8")


def _timestamp(seconds: float) -> str:
    """Koji's string form of a time (the hub sends datetimes as text)."""
    import datetime

    moment = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    return moment.isoformat(sep=" ")


def task(task_id: int = 81234567) -> dict:
    """A ``getTaskInfo(..., request=True)`` record of a buildArch task."""
    start = 1763640000.123456 + task_id % 1000
    return {
        "id": task_id,
        "state": 2,
        "create_time": _timestamp(start - 60.5),
        "create_ts": start - 60.5,
        "start_time": _timestamp(start),
        "start_ts": start,
        "completion_time": _timestamp(start + 1893.25),
        "completion_ts": start + 1893.25,
        "host_id": 412,
        "owner": 3987,
        "method": "buildArch",
        "channel_id": 1,
        "arch": "x86_64",
        "label": "x86_64",
        "parent": task_id - 7,
        "priority": 19,
        "waiting": None,
        "awaited": None,
        "weight": 2.3165784221,
        "result": None,
        "request": [
            "tasks/4560/81234560/python-twisted-24.11.0-3.fc42.src.rpm",
            64381,
            "x86_64",
            True,
            {
                "repo_id": 7412385,
                "skip_tag": False,
                "scratch": False,
                "wrapper_rpm": False,
                "custom_user_metadata": {"team": "python-maint", "ticket": None},
                "fail_fast": True,
                "draft": False,
                "build_tag": "f42-build",
            },
        ],
    }


def build(build_id: int = 2712345) -> dict:
    """A ``getBuild`` record, with ``<nil/>`` fields and one ``<i8>``."""
    start = 1763500000.5 + build_id % 100000
    release = f"{build_id % 7 + 1}.fc42"
    return {
        "build_id": build_id,
        "id": build_id,
        "package_id": 9876,
        "package_name": "python-twisted",
        "name": "python-twisted",
        "version": "24.11.0",
        "release": release,
        "epoch": None,
        "nvr": f"python-twisted-24.11.0-{release}",
        "state": 1,
        "task_id": 81234000 + build_id % 1000,
        "owner_id": 3987,
        "owner_name": "packager",
        "creation_event_id": 130450000 + build_id % 10000,
        "creation_time": _timestamp(start),
        "creation_ts": start,
        "start_time": _timestamp(start - 900),
        "start_ts": start - 900,
        "completion_time": _timestamp(start),
        "completion_ts": start,
        "volume_id": 0,
        "volume_name": "DEFAULT",
        "source": "git+https://src.example.org/rpms/python-twisted.git#"
        "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c",
        "extra": {
            "source": {"original_url": "git+https://src.example.org/rpms/x.git"},
            "typeinfo": {"rpm": None},
            "archive_bytes": 5368709120 + build_id,
        },
        "cg_id": None,
        "cg_name": None,
        "draft": False,
        "promoter_id": None,
        "promoter_name": None,
        "promotion_time": None,
        "promotion_ts": None,
    }


def user(user_id: int = 3987) -> dict:
    """A ``getLoggedInUser`` record."""
    return {
        "id": user_id,
        "name": "packager",
        "status": 0,
        "usertype": 0,
        "krb_principals": ["packager@EXAMPLE.ORG"],
    }


def session(session_id: int) -> dict:
    """An ``sslLogin`` answer with header auth."""
    return {
        "session-id": session_id,
        "session-key": f"3987-{session_id:020d}"[-25:],
        "header-auth": True,
    }


def list_builds(target_bytes: int = LIST_BUILDS_TARGET_BYTES) -> list[dict]:
    """Enough ``listBuilds`` records for an answer of about ``target_bytes``."""
    one = len(response(build()))
    count = max(1, target_bytes // (one - 80))
    return [build(2700000 + index) for index in range(count)]


def multicall_builds(count: int = MULTICALL_SIZE) -> list[list[dict]]:
    """The ``system.multicall`` answer to ``count`` getBuild calls."""
    return [[build(2700000 + index)] for index in range(count)]


def small_values() -> dict[str, object]:
    """The answers of the small methods, which multicalls may hold too."""
    return {
        "getTaskInfo": task(),
        "getBuild": build(),
        "getLoggedInUser": user(),
        "getKojiVersion": "1.35.3",
        "getAPIVersion": 1,
        "logout": None,
        "echo": "ok",
    }


def hub_answers() -> dict[str, bytes]:
    """Map each hub method the benchmark calls to its answer's bytes (the
    multicall entry answers the benchmark's 1000 getBuild calls)."""
    answers = {name: response(value) for name, value in small_values().items()}
    answers["listBuilds"] = response(list_builds())
    answers["system.multicall"] = answers["multiCall"] = response(multicall_builds())
    return answers


if __name__ == "__main__":
    for name, body in hub_answers().items():
        print(f"{name:20} {len(body):>10} bytes")
