"""Where txkoji's exceptions sit in the tree, and where they are defined."""

from __future__ import annotations

import pytest

import txkoji.messages
import txkoji.messages.base
import txkoji.multicall
from txkoji import exceptions
from txkoji.auth.errors import LoginTLSError, LoginUnreachable


@pytest.mark.parametrize(
    ("login_error", "transport_error"),
    [
        (LoginUnreachable, exceptions.KojiConnectionError),
        (LoginTLSError, exceptions.KojiTLSError),
    ],
)
def test_login_failures_on_the_wire_are_transport_errors(login_error, transport_error):
    error = login_error("ssl login failed: refused", "refused")
    assert isinstance(error, exceptions.KojiLoginException)
    assert isinstance(error, transport_error)
    assert error.reason == "refused"
    assert error.url is None and error.method is None
    assert str(error) == "ssl login failed: refused"


@pytest.mark.parametrize(
    "cls",
    [
        exceptions.KojiConnectionError,
        exceptions.KojiTimeoutError,
        exceptions.KojiHTTPError,
        exceptions.KojiTLSError,
    ],
)
def test_every_transport_error_names_its_method(cls):
    error = cls("it failed", "http://hub/kojihub", method="getBuild")
    assert (error.url, error.method) == ("http://hub/kojihub", "getBuild")
    assert cls("it failed").method is None


@pytest.mark.parametrize(
    ("module", "name"),
    [
        (txkoji.multicall, "MultiCallNotRun"),
        (txkoji.messages.base, "MalformedMessage"),
        (txkoji.messages.base, "UnknownMessageType"),
        (txkoji.messages, "MalformedMessage"),
    ],
)
def test_exceptions_live_in_txkoji_exceptions_and_keep_their_old_homes(module, name):
    cls = getattr(exceptions, name)
    assert getattr(module, name) is cls
    assert cls.__module__ == "txkoji.exceptions"
    assert issubclass(cls, exceptions.KojiException)
