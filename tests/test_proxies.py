"""Proxy selection (txkoji.proxies): the environment read as requests reads
it, the proxy option, and proxy URLs with credentials.  Pure: no network."""

from __future__ import annotations

import base64
import os
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from requests.utils import get_environ_proxies, select_proxy

from txkoji.config import read_config
from txkoji.exceptions import KojiConfigError
from txkoji.proxies import (
    ProxyChoice,
    ProxyURL,
    bypasses_proxy,
    environment_proxies,
)

HUB = "https://koji.example.com/kojihub"


def chosen(url: str, environ: dict[str, str], setting: str | None = "environment"):
    proxy = ProxyChoice(setting, environ).for_url(url)
    return None if proxy is None else (proxy.host, proxy.port)


# -- proxy URLs -------------------------------------------------------------


def test_a_proxy_url_defaults_to_http_and_port_80() -> None:
    proxy = ProxyURL.parse("proxy.example.com", "test")
    assert (proxy.host, proxy.port, proxy.authorization) == (
        "proxy.example.com",
        80,
        None,
    )
    assert proxy.shown == "http://proxy.example.com"


def test_credentials_become_basic_and_are_masked() -> None:
    proxy = ProxyURL.parse("http://al%40ice:p%3Ass@proxy:3128", "test")
    assert proxy.authorization == b"Basic " + base64.b64encode(b"al@ice:p:ss")
    assert proxy.shown == "http://***@proxy:3128"
    for text in (repr(proxy), str(proxy)):
        assert "p%3Ass" not in text and "ice" not in text


def test_a_user_without_password_sends_no_credentials() -> None:
    # As requests: ``user@proxy`` gives no Proxy-Authorization.
    assert ProxyURL.parse("http://alice@proxy:3128", "test").authorization is None
    empty = ProxyURL.parse("http://alice:@proxy:3128", "test").authorization
    assert empty == b"Basic " + base64.b64encode(b"alice:")


@pytest.mark.parametrize(
    "url, problem",
    [
        ("socks5://u:secret@proxy:1080", "http:// and https:// proxies, not socks5"),
        ("ftp://u:secret@proxy:21", "http:// and https:// proxies, not ftp://"),
        ("http://u:secret@proxy:port", "malformed port"),
        ("http://u:secret@:3128", "names no host"),
    ],
)
def test_bad_proxy_urls_are_config_errors_without_the_password(url, problem) -> None:
    with pytest.raises(KojiConfigError, match=problem) as caught:
        ProxyURL.parse(url, "the proxy option")
    assert "secret" not in str(caught.value)
    assert "the proxy option" in str(caught.value)


# -- the environment's variables --------------------------------------------


def test_lower_case_variables_win_over_upper_case() -> None:
    env = {"HTTPS_PROXY": "http://upper:1", "https_proxy": "http://lower:2"}
    assert environment_proxies(env) == {"https": "http://lower:2"}
    assert chosen(HUB, env) == ("lower", 2)


def test_an_empty_lower_case_variable_cancels_the_upper_case_one() -> None:
    env = {"HTTPS_PROXY": "http://upper:1", "https_proxy": ""}
    assert chosen(HUB, env) is None


def test_upper_case_alone_is_used() -> None:
    assert chosen(HUB, {"HTTPS_PROXY": "upper:1"}) == ("upper", 1)


def test_the_url_scheme_picks_the_variable_then_all_proxy() -> None:
    env = {"http_proxy": "plain:1", "all_proxy": "every:2"}
    assert chosen("http://koji.example.com/kojihub", env) == ("plain", 1)
    assert chosen(HUB, env) == ("every", 2)
    assert chosen(HUB, {"ALL_PROXY": "every:2"}) == ("every", 2)
    assert chosen(HUB, {"http_proxy": "plain:1"}) is None


def test_under_cgi_an_upper_case_http_proxy_is_ignored() -> None:
    # A web server sets HTTP_PROXY from a client's "Proxy:" header.
    url = "http://koji.example.com/kojihub"
    assert chosen(url, {"HTTP_PROXY": "evil:1", "REQUEST_METHOD": "GET"}) is None
    assert chosen(url, {"http_proxy": "good:1", "REQUEST_METHOD": "GET"}) == ("good", 1)


@pytest.mark.parametrize(
    "no_proxy, url, bypassed",
    [
        ("example.com", HUB, True),
        (".example.com", HUB, True),
        ("koji.example.com", HUB, True),
        ("ample.com", HUB, False),
        ("Example.COM", HUB, True),
        ("other.org, example.com", HUB, True),
        ("koji.example.com:8443", "https://koji.example.com:8443/kojihub", True),
        ("koji.example.com:8443", HUB, False),
        ("*", HUB, True),
        ("other.org,*", HUB, False),
        ("10.0.0.0/8", "https://10.1.2.3/kojihub", True),
        ("10.0.0.0/8", "https://11.1.2.3/kojihub", False),
        ("10.1.2.3", "https://10.1.2.3/kojihub", True),
        ("", HUB, False),
    ],
)
def test_no_proxy_matching(no_proxy, url, bypassed) -> None:
    assert bypasses_proxy(url, {"no_proxy": no_proxy}) is bypassed
    assert (
        chosen(url, {"no_proxy": no_proxy, "https_proxy": "p:1"}) is None
    ) is bypassed


def test_empty_no_proxy_falls_back_to_upper_case() -> None:
    assert bypasses_proxy(HUB, {"no_proxy": "", "NO_PROXY": "example.com"})


# -- the option ---------------------------------------------------------------


def test_the_option_wins_over_the_environment_and_no_proxy() -> None:
    env = {"https_proxy": "envproxy:1", "no_proxy": "*"}
    assert chosen(HUB, env, "http://option:2") == ("option", 2)


@pytest.mark.parametrize("setting", [None, "", "none", "None"])
def test_no_proxy_setting_ignores_the_environment(setting) -> None:
    choice = ProxyChoice(setting, {"https_proxy": "envproxy:1"})
    assert choice.for_url(HUB) is None
    assert not choice.may_proxy


@pytest.mark.parametrize(
    "line, proxy",
    [
        ("", ("envproxy", 1)),
        ("proxy = environment", ("envproxy", 1)),
        ("proxy = none", None),
        ("proxy =", None),
        ("proxy = http://fileproxy:3128", ("fileproxy", 3128)),
    ],
)
def test_the_profile_option(tmp_path, line, proxy) -> None:
    path = tmp_path / "koji.conf"
    path.write_text(f"[hub]\nserver = {HUB}\n{line}\n")
    setting = read_config("hub", [path])["proxy"]
    assert chosen(HUB, {"https_proxy": "envproxy:1"}, setting) == proxy
    keyword = read_config("hub", [path], overrides={"proxy": None})["proxy"]
    assert chosen(HUB, {"https_proxy": "envproxy:1"}, keyword) is None


def test_the_environment_is_read_once() -> None:
    env = {"https_proxy": "first:1"}
    choice = ProxyChoice("environment", env)
    env["https_proxy"] = "second:2"
    proxy = choice.for_url(HUB)
    assert proxy is not None and proxy.host == "first"


def test_may_proxy_says_whether_any_proxy_is_set() -> None:
    assert not ProxyChoice("environment", {"no_proxy": "x"}).may_proxy
    assert ProxyChoice("environment", {"ALL_PROXY": "p:1"}).may_proxy
    assert ProxyChoice("http://p:1", {}).may_proxy


def test_an_unsupported_environment_proxy_is_refused_at_once() -> None:
    with pytest.raises(KojiConfigError, match="https_proxy environment") as caught:
        ProxyChoice("environment", {"https_proxy": "socks5://u:pw@p:1080"})
    assert "pw" not in str(caught.value)


def test_an_https_proxy_speaks_tls_on_443_by_default() -> None:
    proxy = ProxyChoice("environment", {"https_proxy": "https://p"}).for_url(HUB)
    assert proxy is not None and proxy.tls and proxy.port == 443
    assert not ProxyURL.parse("p:3128", "test").tls


def test_a_bad_option_fails_at_once() -> None:
    with pytest.raises(KojiConfigError, match="the proxy option"):
        ProxyChoice("ftp://p:21")


def test_repr_hides_credentials() -> None:
    assert "pw" not in repr(ProxyChoice("http://u:pw@p:1"))


# -- the same choice as requests ------------------------------------------------

_NAMES = [
    "https_proxy",
    "HTTPS_PROXY",
    "http_proxy",
    "HTTP_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
    "Https_Proxy",
    "REQUEST_METHOD",
]
_PROXIES = ["", "p1:3128", "http://p2:8080", "http://u:pw@p3"]
_NO_PROXY = [
    "",
    "*",
    "example.com",
    ".example.com",
    "koji.example.com:8443",
    "EXAMPLE.com",
    "10.0.0.0/8",
    "10.1.2.3",
    "2.3",
    "other.org, example.com",
    "*,other.org",
    "localhost",
]
_URLS = [
    HUB,
    "http://koji.example.com/kojihub",
    "https://koji.example.com:8443/x",
    "https://10.1.2.3/kojihub",
    "http://10.1.2.3:80/kojihub",
    "https://KOJI.Example.com/kojihub",
    "https://localhost:8443/kojihub",
]


@st.composite
def environments(draw) -> dict[str, str]:
    env = {}
    for name in draw(st.lists(st.sampled_from(_NAMES), unique=True, max_size=6)):
        values = _NO_PROXY if name.lower() == "no_proxy" else _PROXIES
        env[name] = draw(
            st.sampled_from(values if name != "REQUEST_METHOD" else ["GET"])
        )
    return env


@settings(max_examples=200, deadline=None)
@given(env=environments(), url=st.sampled_from(_URLS))
def test_the_choice_is_the_one_requests_makes(env, url) -> None:
    with mock.patch.dict(os.environ, env, clear=True):
        theirs = select_proxy(url, get_environ_proxies(url))
    ours = chosen(url, env)
    if theirs is None:
        assert ours is None
    else:
        expected = ProxyURL.parse(theirs, "requests")
        assert ours == (expected.host, expected.port)
