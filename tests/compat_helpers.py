"""Shared by the tests of code written for txkoji 0.10 (its own API and
helga-koji's use of it): a koji profile in a temporary home, and a
message-bus frame as 0.10's callers hand it over."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

WEBURL = "https://koji.test/koji"


class Frame:
    """A STOMP frame as txkoji 0.10's callers (stompest, helga-koji's bus
    client) hand it over: ``headers`` and a JSON ``body``."""

    def __init__(self, headers, body):
        self.headers = headers
        self.body = json.dumps(body)


def profile_home(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    filename: str,
    profile: str,
    server_url: str,
) -> Path:
    """Make ``tmp_path`` the home directory (and cache) with a koji config
    file ``config.d/filename`` whose ``profile`` points at ``server_url``;
    return ``tmp_path``."""
    config = tmp_path / ".koji" / "config.d"
    config.mkdir(parents=True)
    (config / filename).write_text(
        f"[{profile}]\nserver = {server_url}\nweburl = {WEBURL}\n"
    )
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path
