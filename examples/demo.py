"""txkoji demo: start the built-in fake Koji hub, query it concurrently,
then watch a simulated build to completion.

    python examples/demo.py              # serve on a free port, query, stop
    python examples/demo.py --tls        # the same over HTTPS

Everything runs in one process: the fake hub (``txkoji.testing``) listens on
127.0.0.1, and txkoji talks to it over real HTTP, firing its queries at
once and printing what comes back.  Last, the hub simulates a build of
bash (20 times faster than a real hub) and ``txkoji watch-task``'s view
follows it: live in a terminal, plain lines otherwise.
"""

from __future__ import annotations

import argparse
import tempfile

from twisted.internet import defer, task

from txkoji import Connection, build_states
from txkoji.cli.commands import watch_task
from txkoji.cli.humanize import human_duration
from txkoji.estimates import average_build_durations
from txkoji.testing import HubServer, server_tls_options
from txkoji.testing.certs import write_test_pki


def show_build(build) -> str:
    if build.duration is None:
        took = ""
    elif build.completed is None:
        took = f"running for {human_duration(build.duration)}"
    else:
        took = f"took {human_duration(build.duration)}"
    return f"{build.nvr:<22} {build_states.to_str(build.state):<9} {took}"


async def queries(koji: Connection) -> None:
    # Fire everything at once; the connection pipelines over its pool.
    (
        version,
        builds,
        task_info,
        user,
        tag,
        channels,
    ) = await defer.gatherResults(
        [
            koji.getKojiVersion(),
            koji.listBuilds(1, queryOpts={"order": "-build_id"}),
            koji.getTaskInfo(50100),
            koji.getUser("alice"),
            koji.getTag("f40-build"),
            koji.listChannels(),
        ],
        consumeErrors=True,
    )
    print(f"hub: Koji {version} (Koji-Version header: {koji.hub_version})")
    print("\nbash builds:")
    for build in builds:
        print("  " + show_build(build))

    print(f"\ntask {task_info.id}: {task_info.method} of {task_info.package}")
    print(f"  target {task_info.target}, state {task_info.state_name}")
    children = await task_info.descendents()
    for child in children:
        arch = child.arch or "-"
        print(f"  - {child.id} {child.method:<17} {arch:<8} {child.state_name}")

    print(f"\nuser {user.name} (id {user.id}), principals {user.krb_principals}")
    print(f"tag {tag.name}: arches {tag.arches}")
    print("\nchannels:")
    for channel in channels:
        capacity = await channel.total_capacity()
        print(f"  {channel.name:<11} capacity {capacity:g}")

    print("\naverage build durations (one multicall):")
    packages = ["bash", "kernel", "legacy-tool"]
    durations = await average_build_durations(koji, packages)
    for name, duration in zip(packages, durations, strict=True):
        shown = human_duration(duration) if duration is not None else "no history"
        print(f"  {name:<12} {shown}")


async def watch_a_build(
    reactor, server: HubServer, koji: Connection, speed: float
) -> None:
    simulator = server.hub.simulate(seed=1, speed=speed)
    task_id = simulator.start_build("bash")
    print(f"\nwatching simulated build task {task_id} (txkoji watch-task):")
    try:
        await watch_task(reactor, koji, [task_id], interval=0.5)
    finally:
        simulator.stop()


async def main(reactor, use_tls: bool, speed: float) -> None:
    with tempfile.TemporaryDirectory() as cert_dir:
        options = {"weburl": "https://koji.example.com/koji"}
        tls = None
        if use_tls:
            pki = write_test_pki(cert_dir)
            tls = server_tls_options(pki.server_cert, pki.server_key)
            options["serverca"] = pki.ca_cert
        server = HubServer(reactor, tls=tls)
        await server.start(port=0)
        print(f"fake hub serving at {server.url}")
        koji = Connection(server=server.url, **options)
        try:
            await queries(koji)
            await watch_a_build(reactor, server, koji, speed)
        finally:
            await koji.close()
            await server.stop()


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tls", action="store_true", help="serve over HTTPS")
    parser.add_argument(
        "--speed",
        type=float,
        default=20,
        help="how many times faster than a real hub the build runs (default 20)",
    )
    args = parser.parse_args()
    task.react(
        lambda reactor: defer.ensureDeferred(main(reactor, args.tls, args.speed))
    )


if __name__ == "__main__":
    run()
