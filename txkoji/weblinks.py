"""kojiweb URLs: from objects to links, and from links back to objects.

Every kojiweb info page is ``<weburl>/<page>?<param>=<id>``::

    >>> web_url("https://koji.example.com/koji", "build", 1001)
    'https://koji.example.com/koji/buildinfo?buildID=1001'
    >>> parse_web_url("https://koji.example.com/koji/taskinfo?taskID=50001")
    ('task', 50001)

Parsing never raises: any text that is not a well-formed info page link
(whitespace, junk, an id that is not a plain decimal number) gives ``None``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import hyperlink
from twisted.internet import defer

from txkoji import config as koji_config
from txkoji.exceptions import KojiConfigError


@dataclass(frozen=True)
class WebPage:
    """One kind of kojiweb info page.

    :ivar page: the page's path segment, e.g. ``buildinfo``.
    :ivar param: the query parameter holding the id, e.g. ``buildID``.
    :ivar method: the hub method fetching the object by id.
    """

    page: str
    param: str
    method: str


#: The info pages, by the kind of object they show.
PAGES: dict[str, WebPage] = {
    "build": WebPage("buildinfo", "buildID", "getBuild"),
    "task": WebPage("taskinfo", "taskID", "getTaskInfo"),
    "package": WebPage("packageinfo", "packageID", "getPackage"),
    "user": WebPage("userinfo", "userID", "getUser"),
    "tag": WebPage("taginfo", "tagID", "getTag"),
    "target": WebPage("buildtargetinfo", "targetID", "getBuildTarget"),
    "channel": WebPage("channelinfo", "channelID", "getChannel"),
    "host": WebPage("hostinfo", "hostID", "getHost"),
    "rpm": WebPage("rpminfo", "rpmID", "getRPM"),
    "archive": WebPage("archiveinfo", "archiveID", "getArchive"),
    "repo": WebPage("repoinfo", "repoID", "repoInfo"),
    "buildroot": WebPage("buildrootinfo", "buildrootID", "getBuildroot"),
    "externalrepo": WebPage("externalrepoinfo", "extrepoID", "getExternalRepo"),
}

# Page name -> kind; "targetinfo" is the older spelling txkoji 0.10 took.
_KIND_BY_PAGE = {page.page: kind for kind, page in PAGES.items()}
_KIND_BY_PAGE["targetinfo"] = "target"

_DIGITS = re.compile(r"[0-9]+")
_WHITESPACE = re.compile(r"\s")


def web_url(weburl: str, kind: str, object_id: int) -> str:
    """Return the kojiweb info page URL of an object.

    :param weburl: the profile's ``weburl``.
    :param kind: a key of :data:`PAGES` (``"build"``, ``"task"``...).
    :param object_id: the object's id.
    :raises KeyError: for an unknown ``kind``.
    """
    page = PAGES[kind]
    url = hyperlink.URL.from_text(weburl).child(page.page)
    return url.add(page.param, str(int(object_id))).to_text()


def record_url(record: Any, kind: str, object_id: Any) -> str | None:
    """Return the info page URL of ``record`` on its connection's kojiweb.

    :returns: the URL, or ``None`` when the record has no connection, the
        connection no ``weburl``, or ``object_id`` is ``None``.
    """
    weburl = getattr(record.connection, "weburl", None)
    if not weburl or object_id is None:
        return None
    return web_url(weburl, kind, object_id)


def parse_web_url(url: Any) -> tuple[str, int] | None:
    """Return ``(kind, id)`` for a kojiweb info page URL.

    :returns: the kind (a key of :data:`PAGES`) and the integer id, or
        ``None`` for anything else: not a string, whitespace anywhere, a
        scheme other than http(s), an unknown page, a missing, repeated or
        non-decimal id.
    """
    if not isinstance(url, str) or not url or _WHITESPACE.search(url):
        return None
    try:
        parts = urlsplit(url)
        query = parse_qs(parts.query, strict_parsing=False)
    except ValueError:
        return None
    if parts.scheme not in ("", "http", "https"):
        return None
    kind = _KIND_BY_PAGE.get(parts.path.rstrip("/").rsplit("/", 1)[-1])
    if kind is None:
        return None
    values = query.get(PAGES[kind].param, [])
    if len(values) != 1 or not _DIGITS.fullmatch(values[0]):
        return None
    return kind, int(values[0])


def _under(url: str, weburl: str) -> bool:
    """Whether ``url`` is ``weburl`` or a page below it."""
    base = weburl.rstrip("/")
    if not url.startswith(base):
        return False
    rest = url[len(base) :]
    return rest == "" or rest[0] in "/?#"


def profile_for_web_url(url: Any, files: Sequence[str] | None = None) -> str | None:
    """Return the koji client profile whose ``weburl`` prefixes ``url``.

    :param files: the config files to search (default: the standard
        locations, as :func:`txkoji.config.profile_names` finds them).
    :returns: the profile name (the one with the longest matching
        ``weburl`` when several match), or ``None`` when none matches or
        ``url`` is not a string without whitespace.  Profiles that cannot be
        read are skipped.
    """
    if not isinstance(url, str) or not url or _WHITESPACE.search(url):
        return None
    best: tuple[int, str] | None = None
    for profile in koji_config.profile_names(files):
        try:
            weburl = koji_config.read_config(profile, files).weburl
        except KojiConfigError:
            continue
        if weburl and _under(url, weburl):
            if best is None or len(weburl) > best[0]:
                best = (len(weburl), profile)
    return best[1] if best else None


def fetch_from_web(connection: Any, url: Any) -> defer.Deferred[Any]:
    """Fetch the object a kojiweb info page shows.

    :param connection: the connection to ask (its hub should be the one
        behind the page).
    :returns: a Deferred firing with the hub's record (a ``Build``, ``Task``
        with its request, ``Package``... as the result registry types it),
        ``None`` when ``url`` is not an info page link (see
        :func:`parse_web_url`) or the hub has no such object.  It fails as
        the hub call does (a transport error, or a fault).
    """
    parsed = parse_web_url(url)
    if parsed is None:
        return defer.succeed(None)
    kind, object_id = parsed
    kwargs = {"request": True} if kind == "task" else {}
    # Through the connection's named method, as txkoji 0.10 did, so that
    # tests patching e.g. Connection.getBuild see these calls too.
    return getattr(connection, PAGES[kind].method)(object_id, **kwargs)
