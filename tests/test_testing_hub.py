"""The fake hub (txkoji.testing) over real loopback HTTP and HTTPS."""

import os
import sys
from pathlib import Path

import pytest
import pytest_twisted
import treq
from twisted.internet import defer, protocol, reactor
from twisted.internet.error import ConnectionDone
from twisted.internet.ssl import Certificate
from twisted.internet.task import Clock
from twisted.web.client import (
    Agent,
    BrowserLikePolicyForHTTPS,
    HTTPConnectionPool,
    ResponseFailed,
    ResponseNeverReceived,
)

from txkoji.codec import decode_response, encode_call, pack_params
from txkoji.exceptions import (
    AuthExpired,
    GenericError,
    KojiFault,
    KojiProtocolError,
    ParameterError,
    ServerOffline,
)
from txkoji.testing import FakeHub, HubServer, load_dataset
from txkoji.testing.faults import FaultRule

ROOT = Path(__file__).resolve().parent.parent


@pytest_twisted.async_yield_fixture()
async def http():
    """A treq client on a persistent pool, closed after the test."""
    pool = HTTPConnectionPool(reactor, persistent=True)
    yield treq.client.HTTPClient(Agent(reactor, pool=pool))
    await pool.closeCachedConnections()


async def post(client, url, body):
    response = await client.post(url, body, headers={"Content-Type": ["text/xml"]})
    return response, await response.content()


async def call(client, url, method, *args, **kwargs):
    response, body = await post(
        client, url, encode_call(method, pack_params(args, kwargs))
    )
    assert response.code == 200
    return decode_response(body, method)


async def hub_call(http, server, method, *args, **kwargs):
    return await call(http, server.url, method, *args, **kwargs)


# HTTP behaviour


@pytest_twisted.ensureDeferred
async def test_get_is_405_with_allow_post(hub_server, http):
    response = await http.get(hub_server.url)
    await response.content()
    assert response.code == 405
    assert response.headers.getRawHeaders("Allow") == ["POST"]


@pytest_twisted.ensureDeferred
async def test_junk_body_is_400_text_plain(hub_server, http):
    response, body = await post(http, hub_server.url, b"<methodCall><params>")
    assert response.code == 400
    assert response.headers.getRawHeaders("Content-Type")[0].startswith("text/plain")
    assert body.startswith(b"Invalid request: ")


@pytest_twisted.ensureDeferred
async def test_empty_body_is_400(hub_server, http):
    response, body = await post(http, hub_server.url, b"")
    assert response.code == 400
    assert body.startswith(b"Invalid request: ")


@pytest_twisted.ensureDeferred
async def test_faults_are_http_200_xml_with_koji_version(hub_server, http):
    response, body = await post(http, hub_server.url, encode_call("noSuchMethod", []))
    assert response.code == 200
    assert response.headers.getRawHeaders("Content-Type") == ["text/xml"]
    assert response.headers.getRawHeaders("Koji-Version") == ["1.35.3"]
    with pytest.raises(GenericError, match="Invalid method: noSuchMethod"):
        decode_response(body, "noSuchMethod")


@pytest_twisted.ensureDeferred
async def test_request_over_max_length_is_generic_error(http):
    server = HubServer(hub=FakeHub(max_request_length=250))
    await server.start()
    try:
        with pytest.raises(GenericError, match="too long"):
            await hub_call(http, server, "getBuild", "x" * 300)
        assert await hub_call(http, server, "getBuild", 1001)
    finally:
        await server.stop()


# Dispatch


@pytest_twisted.ensureDeferred
async def test_wrong_argument_count_is_parameter_error(hub_server, http):
    with pytest.raises(ParameterError):
        await hub_call(http, hub_server, "getBuild", 1001, False, "extra")
    with pytest.raises(ParameterError):
        await hub_call(http, hub_server, "getBuild")


@pytest_twisted.ensureDeferred
async def test_unknown_keyword_is_parameter_error(hub_server, http):
    with pytest.raises(ParameterError, match="bogus"):
        await hub_call(http, hub_server, "getBuild", 1001, bogus=1)


@pytest_twisted.ensureDeferred
async def test_kwargs_arrive_through_starstar(hub_server, http):
    builds = await hub_call(
        http,
        hub_server,
        "listBuilds",
        packageID=1,
        state=1,
        queryOpts={"order": "-completion_ts", "limit": 1},
    )
    assert [b["id"] for b in builds] == [1002]


@pytest_twisted.ensureDeferred
async def test_nil_and_i8_go_out(hub_server, http):
    response, body = await post(http, hub_server.url, encode_call("getBuild", [1030]))
    assert b"<nil/>" in body and b"<i8>4831838208</i8>" in body
    build = decode_response(body, "getBuild")
    assert build["task_id"] is None
    assert build["extra"]["image"]["layer_sizes"][0]["size"] == 4831838208
    assert build["extra"]["container_koji_task_id"] == 50080


@pytest_twisted.ensureDeferred
async def test_multicall_both_names_mix_values_and_faults(hub_server, http):
    calls = [
        {"methodName": "getBuild", "params": [1001]},
        {"methodName": "nope", "params": []},
        {"methodName": "getBuild", "params": pack_params([99999], {"strict": True})},
        {"methodName": "getPackage", "params": ["bash"]},
    ]
    for name in ("system.multicall", "multiCall"):
        results = await hub_call(http, hub_server, name, calls)
        assert results[0][0]["nvr"] == "bash-5.2.26-1.fc40"
        assert results[1]["faultCode"] == 1000
        assert results[1]["faultString"] == "Invalid method: nope"
        assert results[2]["faultCode"] == 1000 and "traceback" in results[2]
        assert results[3] == [{"id": 1, "name": "bash"}]


@pytest_twisted.ensureDeferred
async def test_multicall_where_every_call_fails_is_a_success(hub_server, http):
    results = await hub_call(
        http, hub_server, "multiCall", [{"methodName": "x", "params": []}]
    )
    assert results[0]["faultString"] == "Invalid method: x"


def test_extra_method_registers_on_one_hub_only():
    hub, other = FakeHub(Clock()), FakeHub(Clock())
    hub.methods.register(lambda ctx, x: x * 2, "double")
    assert "double" in hub.methods and "double" not in other.methods


# Methods


@pytest_twisted.ensureDeferred
async def test_getBuild_by_id_nvr_struct_and_missing(hub_server, http):
    by_id = await hub_call(http, hub_server, "getBuild", 1001)
    by_nvr = await hub_call(http, hub_server, "getBuild", "bash-5.2.26-1.fc40")
    by_struct = await hub_call(http, hub_server, "getBuild", {"id": 1001})
    assert by_id == by_nvr == by_struct
    assert by_id["creation_time"].endswith("+00:00") and " " in by_id["creation_time"]
    assert isinstance(by_id["completion_ts"], float)
    assert await hub_call(http, hub_server, "getBuild", 424242) is None
    with pytest.raises(GenericError, match="No such build"):
        await hub_call(http, hub_server, "getBuild", 424242, strict=True)


@pytest_twisted.ensureDeferred
async def test_listBuilds_filters_and_query_opts(hub_server, http):
    assert (
        await hub_call(http, hub_server, "listBuilds", 3, queryOpts={"countOnly": True})
        == 4
    )
    page = await hub_call(
        http, hub_server, "listBuilds", queryOpts={"offset": 1, "limit": 2}
    )
    assert [b["id"] for b in page] == [1002, 1003]
    alice = await hub_call(http, hub_server, "listBuilds", userID="alice", state=0)
    assert [b["id"] for b in alice] == [1004]
    after = await hub_call(
        http, hub_server, "listBuilds", 1, createdAfter="2026-10-10 00:00:00"
    )
    assert [b["id"] for b in after] == [1002, 1003, 1004]
    assert await hub_call(http, hub_server, "listBuilds", "no-such-package") == []


@pytest_twisted.ensureDeferred
async def test_getAverageBuildDuration(hub_server, http):
    bash = await hub_call(http, hub_server, "getAverageBuildDuration", "bash")
    assert isinstance(bash, float) and 400 < bash < 800
    assert (
        await hub_call(http, hub_server, "getAverageBuildDuration", "legacy-tool")
        is None
    )
    assert await hub_call(http, hub_server, "getAverageBuildDuration", 4) > 0


def test_getAverageBuildDuration_age_counts_back_from_hub_clock():
    clock = Clock()
    done = {b["id"]: b for b in load_dataset()["builds"]}[1021]["completion_ts"]
    clock.advance(done + 10 * 86400)
    hub = FakeHub(clock)
    every = decode_response(hub.call("getAverageBuildDuration", ["kernel"]), "")
    recent = decode_response(hub.call("getAverageBuildDuration", ["kernel", 1]), "")
    assert recent == pytest.approx(200 * 60 - 140.125 - 70.25) != every


@pytest_twisted.ensureDeferred
async def test_task_info_children_descendents(hub_server, http):
    info = await hub_call(http, hub_server, "getTaskInfo", 50012, request=True)
    assert info["method"] == "buildArch" and info["parent"] == 50010
    assert info["request"][2] == "x86_64" and info["request"][1] == 2
    plain = await hub_call(http, hub_server, "getTaskInfo", 50012)
    assert "request" not in plain and "result" not in plain
    assert await hub_call(http, hub_server, "getTaskInfo", 1) is None
    with pytest.raises(GenericError):
        await hub_call(http, hub_server, "getTaskInfo", 1, strict=True)
    children = await hub_call(http, hub_server, "getTaskChildren", 50010)
    assert [c["method"] for c in children] == [
        "buildSRPMFromSCM",
        "buildArch",
        "buildArch",
        "tagBuild",
    ]
    tree = await hub_call(http, hub_server, "getTaskDescendents", 50300)
    assert sorted(tree) == ["50300", "50301", "50302"] and tree["50301"] == []


@pytest_twisted.ensureDeferred
async def test_listTasks_filters_decode_and_raw(hub_server, http):
    free = await hub_call(http, hub_server, "listTasks", {"state": [0], "decode": True})
    assert [t["id"] for t in free] == [50112, 50312]
    assert free[0]["request"][2] == "noarch" and free[0]["owner_name"] == "bob"
    raw = await hub_call(
        http, hub_server, "listTasks", {"parent": 50020}, {"order": "-id", "limit": 1}
    )
    assert raw[0]["id"] == 50023 and raw[0]["request"].startswith("<?xml")
    scratch = await hub_call(http, hub_server, "getTaskInfo", 50200, request=True)
    assert scratch["request"][2] == {"scratch": True}


@pytest_twisted.ensureDeferred
async def test_getTaskResult(hub_server, http):
    result = await hub_call(http, hub_server, "getTaskResult", 50012)
    assert result["rpms"][0].endswith(".x86_64.rpm")
    with pytest.raises(KojiFault) as failed:
        await hub_call(http, hub_server, "getTaskResult", 50022)
    assert failed.value.faultCode == 1005
    with pytest.raises(GenericError, match="not finished"):
        await hub_call(http, hub_server, "getTaskResult", 50102)


@pytest_twisted.ensureDeferred
async def test_listTagged_inherit_latest(hub_server, http):
    own = await hub_call(http, hub_server, "listTagged", "f40-candidate")
    assert [b["nvr"] for b in own] == ["rust-serde-1.0.214-1.fc40"]
    latest = await hub_call(
        http, hub_server, "listTagged", "f40-candidate", inherit=True, latest=True
    )
    by_name = {b["name"]: b for b in latest}
    assert (
        by_name["bash"]["id"] == 1002 and by_name["bash"]["tag_name"] == "f40-updates"
    )
    assert by_name["rust-serde"]["id"] == 1051
    with pytest.raises(GenericError):
        await hub_call(http, hub_server, "listTagged", "no-such-tag")


@pytest_twisted.ensureDeferred
async def test_lookups_of_catalog_records(hub_server, http):
    c = hub_server
    assert await hub_call(http, c, "getAPIVersion") == 1
    assert await hub_call(http, c, "getKojiVersion") == "1.35.3"
    assert (await hub_call(http, c, "getUser", "alice@EXAMPLE.COM"))["id"] == 2
    assert await hub_call(http, c, "getUser") is None
    assert (await hub_call(http, c, "getTag", "f40-build"))[
        "arches"
    ] == "x86_64 aarch64"
    target = await hub_call(http, c, "getBuildTarget", "f40-candidate")
    assert target["build_tag_name"] == "f40-build" and target["dest_tag"] == 3
    assert (await hub_call(http, c, "getChannel", 2))["name"] == "createrepo"
    with pytest.raises(GenericError, match="No such channel"):
        await hub_call(http, c, "getChannel", "nope", strict=True)
    assert [ch["id"] for ch in await hub_call(http, c, "listChannels", 2)] == [1, 2]
    assert [
        ch["id"] for ch in await hub_call(http, c, "listChannels", enabled=False)
    ] == [6]
    assert (await hub_call(http, c, "getHost", "x86-01.example.com"))[
        "capacity"
    ] == 16.0
    hosts = await hub_call(http, c, "listHosts", ["x86_64"], enabled=True)
    assert [h["id"] for h in hosts] == [1]
    assert [
        h["id"] for h in await hub_call(http, c, "listHosts", channelID="container")
    ] == [1, 3]
    assert (await hub_call(http, c, "getLastEvent"))["id"] > 900000


@pytest_twisted.ensureDeferred
async def test_packages_and_tags(hub_server, http):
    c = hub_server
    assert len(await hub_call(http, c, "listPackages")) == 7
    inherited = await hub_call(http, c, "listPackages", tagID=3, inherited=True)
    legacy = [p for p in inherited if p["package_name"] == "legacy-tool"]
    assert legacy[0]["blocked"] is True and legacy[0]["tag_name"] == "f40-updates"
    assert [
        p["package_name"] for p in await hub_call(http, c, "listPackages", userID="bob")
    ] == ["python-requests"]
    tags = await hub_call(http, c, "listTags", build=1002)
    assert [t["name"] for t in tags] == ["f40-updates"]
    assert await hub_call(http, c, "getPackage", "nope") is None


# Fault injection


@pytest_twisted.ensureDeferred
async def test_injected_offline_and_fault_apply_once(hub_server, http):
    hub_server.hub.faults.add("getBuild", offline=True)
    hub_server.hub.faults.add("getPackage", fault=(1007, "session expired"))
    with pytest.raises(ServerOffline, match="server is offline"):
        await hub_call(http, hub_server, "getBuild", 1001)
    with pytest.raises(AuthExpired):
        await hub_call(http, hub_server, "getPackage", 1)
    assert await hub_call(http, hub_server, "getBuild", 1001)
    assert len(hub_server.hub.faults) == 0


@pytest_twisted.ensureDeferred
async def test_injected_http_status(hub_server, http):
    hub_server.hub.faults.add(http_status=503, times=2)
    for _ in range(2):
        response, body = await post(
            http, hub_server.url, encode_call("getAPIVersion", [])
        )
        assert response.code == 503 and b"Service Unavailable" in body
    assert await hub_call(http, hub_server, "getAPIVersion") == 1


@pytest_twisted.ensureDeferred
async def test_injected_malformed_reply(hub_server, http):
    hub_server.hub.faults.add("getAPIVersion", malformed=True)
    response, body = await post(http, hub_server.url, encode_call("getAPIVersion", []))
    assert response.code == 200
    with pytest.raises(KojiProtocolError):
        decode_response(body, "getAPIVersion")


@pytest_twisted.ensureDeferred
async def test_injected_drop_cuts_the_reply_after_running_the_call(hub_server, http):
    hub_server.hub.faults.add("getBuild", drop=True)
    response = await http.post(hub_server.url, encode_call("getBuild", [1001]))
    assert response.code == 200
    with pytest.raises(ResponseFailed) as err:
        await response.content()
    assert err.value.reasons[0].check(ConnectionDone)
    assert hub_server.hub.calls == ["getBuild"]


@pytest_twisted.ensureDeferred
async def test_injected_delay_waits_for_the_hub_clock(http):
    clock = Clock()
    server = HubServer(hub=FakeHub(clock))
    await server.start()
    try:
        server.hub.faults.add("getAPIVersion", delay=30.0)
        answer = defer.ensureDeferred(hub_call(http, server, "getAPIVersion"))
        while not clock.getDelayedCalls():
            await deferLater(0)
        clock.advance(29)
        assert not answer.called
        clock.advance(1)
        assert await answer == 1
    finally:
        await server.stop()


@pytest_twisted.ensureDeferred
async def test_stop_cancels_pending_delays_and_closes_connections(http):
    clock = Clock()
    server = HubServer(hub=FakeHub(clock))
    await server.start()
    server.hub.faults.add(delay=5.0)
    answer = defer.ensureDeferred(hub_call(http, server, "getAPIVersion"))
    while not clock.getDelayedCalls():
        await deferLater(0)
    assert server.open_connections == 1
    await server.stop()
    assert clock.getDelayedCalls() == [] and server.open_connections == 0
    with pytest.raises(ResponseNeverReceived):
        await answer


def test_fault_rule_refuses_contradictions():
    with pytest.raises(ValueError):
        FaultRule(drop=True, offline=True)
    with pytest.raises(ValueError):
        FaultRule(http_status=404)
    with pytest.raises(ValueError):
        FaultRule()


def deferLater(seconds):
    from twisted.internet.task import deferLater as later

    return later(reactor, seconds, lambda: None)


# Server


@pytest_twisted.ensureDeferred
async def test_connection_counters(hub_server, http):
    await hub_call(http, hub_server, "getAPIVersion")
    await hub_call(http, hub_server, "getAPIVersion")
    assert hub_server.connections_made == 1 and hub_server.open_connections == 1
    fresh = treq.client.HTTPClient(
        Agent(reactor, pool=HTTPConnectionPool(reactor, False))
    )
    await call(fresh, hub_server.url, "getAPIVersion")
    assert hub_server.connections_made == 2


@pytest_twisted.ensureDeferred
async def test_tls_serving_verified_against_generated_ca(tls_hub_server, hub_pki):
    assert tls_hub_server.url.startswith("https://127.0.0.1:")
    pool = HTTPConnectionPool(reactor, persistent=False)
    policy = BrowserLikePolicyForHTTPS(
        Certificate.loadPEM(hub_pki.ca_cert.read_bytes())
    )
    client = treq.client.HTTPClient(Agent(reactor, contextFactory=policy, pool=pool))
    assert await call(client, tls_hub_server.url, "getAPIVersion") == 1
    await pool.closeCachedConnections()


class _LineReader(protocol.ProcessProtocol):
    def __init__(self):
        self.first_line = defer.Deferred()
        self.ended = defer.Deferred()
        self.buffer = b""

    def outReceived(self, data):
        self.buffer += data
        if b"\n" in self.buffer and not self.first_line.called:
            self.first_line.callback(self.buffer.split(b"\n")[0].decode())

    def processEnded(self, reason):
        if not self.first_line.called:
            self.first_line.errback(reason)
        self.ended.callback(reason.value.exitCode)


@pytest_twisted.ensureDeferred
async def test_cli_serves_until_terminated(http):
    reader = _LineReader()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), *sys.path]))
    process = reactor.spawnProcess(
        reader,
        sys.executable,
        [sys.executable, "-m", "txkoji.testing", "--port", "0"],
        env=env,
        path=str(ROOT),
    )
    try:
        line = await reader.first_line.addTimeout(30, reactor)
        assert line.startswith("serving http://127.0.0.1:")
        url = line.split()[1]
        assert not url.endswith(":0/kojihub")
        assert await call(http, url, "getKojiVersion") == "1.35.3"
    finally:
        process.signalProcess("TERM")
        code = await reader.ended.addTimeout(30, reactor)
    assert code == 0
