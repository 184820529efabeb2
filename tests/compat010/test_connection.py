"""txkoji 0.10's ``test_connection.py``: profiles, ``connect_from_web``
and ``from_web``."""

import pytest
import pytest_twisted

from txkoji.build import Build
from txkoji.connection import Connection

BUILD_URL = "https://koji.example.com/koji/buildinfo?buildID=24284"

#: Inputs that name no kojiweb page: both from_web methods give None.
NOT_WEB_URLS = [
    "foobar",
    "https://koji.example.com",
    f"check out {BUILD_URL}",
    f"{BUILD_URL} is cool",
    f"please check {BUILD_URL} now",
]


def test_profile_gives_the_hub_url():
    koji = Connection("mykoji")
    assert koji
    assert koji.url == "https://hub.example.com/kojihub"


def test_missing_profile(mykoji_home):
    # 0.10's test emptied its private list of config locations; here the
    # home directory's config is removed instead.
    (mykoji_home / ".koji" / "config.d" / "mykoji.conf").unlink()
    with pytest.raises(ValueError):
        Connection("mykoji")


def test_connect_from_web():
    koji = Connection.connect_from_web(BUILD_URL)
    assert isinstance(koji, Connection)
    assert koji.url == "https://hub.example.com/kojihub"


@pytest.mark.parametrize("text", NOT_WEB_URLS)
def test_connect_from_web_refuses(text):
    assert Connection.connect_from_web(text) is None


@pytest_twisted.ensureDeferred
async def test_from_web(koji):
    build = await koji.from_web(BUILD_URL)
    assert isinstance(build, Build)
    assert build.id == 24284


@pytest.mark.parametrize("text", NOT_WEB_URLS + [BUILD_URL + "whoops"])
@pytest_twisted.ensureDeferred
async def test_from_web_refuses(koji, recorded_server, text):
    assert await koji.from_web(text) is None
    assert recorded_server.hub.calls == []
