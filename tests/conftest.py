"""Shared pytest configuration: the fake-hub and RabbitMQ fixtures are
plugins, and every test must leave the reactor as it found it
(``quiet_reactor``).
``no_host_proxies`` keeps the host's proxy variables out of every test."""

import os

import pytest

from tests.loopback import quiet_reactor  # noqa: F401 - an autouse fixture

pytest_plugins = [
    "tests.hub_fixtures",
    "tests.rabbitmq",
    "tests.activemq",
    "tests.ngircd",
]


@pytest.fixture(autouse=True)
def no_host_proxies(monkeypatch):
    """Remove ``*_proxy`` variables (any case) for the test: connections
    follow them as the official client does, and the tests reach their
    servers on 127.0.0.1 directly unless they set a proxy themselves."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
