"""Which clients the benchmark runs, in which virtualenv, on which workloads."""

from __future__ import annotations

from dataclasses import dataclass

#: Competitor virtualenvs under ``benchmarks/.work/`` and what goes in them.
#: ``project`` is the checkout's own ``.venv`` (the interpreter running us).
VENVS: dict[str, list[str]] = {
    "venv-koji": ["koji"],
    "venv-txkoji010": ["txkoji==0.10.0"],
}

SINGLE = ("seq", "listbuilds", "multicall")
ALL = ("seq", "conc", "listbuilds", "multicall", "auth")


@dataclass(frozen=True)
class ClientSpec:
    """One column of the results.

    :ivar name: short name used on the command line and in tables.
    :ivar family: group name (``--clients koji`` selects every koji row).
    :ivar venv: ``project`` or a key of :data:`VENVS`.
    :ivar script: file under ``benchmarks/clients/``.
    :ivar args: extra arguments for the script.
    :ivar workloads: the workloads this client runs.
    :ivar label: what the row is, for the report.
    """

    name: str
    family: str
    venv: str
    script: str
    args: tuple[str, ...]
    workloads: tuple[str, ...]
    label: str


CLIENTS: tuple[ClientSpec, ...] = (
    ClientSpec(
        "txkoji",
        "txkoji",
        "project",
        "txkoji_client.py",
        (),
        ALL,
        "txkoji (this work tree)",
    ),
    ClientSpec(
        "koji",
        "koji",
        "venv-koji",
        "koji_session.py",
        (),
        SINGLE,
        "koji ClientSession, one session",
    ),
    ClientSpec(
        "koji-8t",
        "koji",
        "venv-koji",
        "koji_session.py",
        ("--threads", "8"),
        ("conc", "auth"),
        "koji ClientSession, 8 threads",
    ),
    ClientSpec(
        "koji-32t",
        "koji",
        "venv-koji",
        "koji_session.py",
        ("--threads", "32"),
        ("conc", "auth"),
        "koji ClientSession, 32 threads",
    ),
    ClientSpec(
        "txkoji-0.10",
        "txkoji-0.10",
        "venv-txkoji010",
        "txkoji010.py",
        (),
        ("seq", "conc", "listbuilds", "multicall"),
        "txkoji 0.10 (PyPI)",
    ),
    ClientSpec(
        "floor-agent",
        "floor",
        "project",
        "floor.py",
        ("--http", "agent"),
        ("seq", "conc", "listbuilds", "multicall"),
        "floor: Agent + pool, no XML",
    ),
    ClientSpec(
        "floor-treq",
        "floor",
        "project",
        "floor.py",
        ("--http", "treq"),
        ("seq", "conc", "listbuilds", "multicall"),
        "floor: treq + pool, no XML",
    ),
)
