"""Shared pytest configuration: the fake-hub and RabbitMQ fixtures are
plugins, and every test must leave the reactor as it found it
(``quiet_reactor``)."""

from tests.loopback import quiet_reactor  # noqa: F401 - an autouse fixture

pytest_plugins = ["tests.hub_fixtures", "tests.rabbitmq"]
