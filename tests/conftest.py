"""Shared pytest configuration: the fake-hub fixtures are a plugin."""

pytest_plugins = ["tests.hub_fixtures"]
