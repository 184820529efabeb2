"""Many authenticated calls at once against the fake hub over TLS: all
succeed, in call-number order, batched when they queue up."""

from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet import defer

from tests.auth_helpers import ssl_connection

CALLS = 200


def writes(koji, count: int) -> list[defer.Deferred]:
    """Issue ``count`` writes and reads at once, without waiting."""
    calls = []
    for n in range(count):
        if n % 4 == 0:
            calls.append(koji.createTag(f"burst-{n}"))
        elif n % 4 == 1:
            calls.append(koji.packageListAdd("f40", f"pkg-{n}", owner="alice"))
        elif n % 4 == 2:
            calls.append(koji.editTag("f40", extra={f"k{n}": n}))
        else:
            calls.append(koji.getLoggedInUser())
    return calls


async def outcomes(calls: list[defer.Deferred]) -> list:
    return await defer.DeferredList(calls, consumeErrors=True)


@pytest.mark.parametrize("max_batch", [100, 1])
@pytest_twisted.ensureDeferred
async def test_200_concurrent_authenticated_writes_all_succeed(
    hub, hub_pki, max_batch
) -> None:
    koji = ssl_connection(hub, hub_pki)
    koji.session_order.max_batch = max_batch
    await koji.login()
    results = await outcomes(writes(koji, CALLS))
    failures = [value for ok, value in results if not ok]
    assert failures == []
    tags = hub.hub.state.tags
    assert sum(1 for tag in tags.values() if tag["name"].startswith("burst-")) == 50
    assert len(hub.hub.state.find("tags", "f40")["extra"]) == 50
    sent = koji.session_order.requests_sent
    assert sent == (CALLS if max_batch == 1 else 3)
    assert koji.callnum == sent
    await koji.close()


@pytest_twisted.ensureDeferred
async def test_numbers_reach_the_hub_in_order(hub, hub_pki) -> None:
    koji = ssl_connection(hub, hub_pki)
    await koji.login()
    session = hub.hub.sessions.sessions[koji.session_id]
    await outcomes(writes(koji, 40))
    await koji.logout()
    assert session.callnums == list(range(koji.session_order.requests_sent))
    await koji.close()
