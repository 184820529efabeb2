"""Print the latest completed build of a package.

python examples/latest_build.py --server http://127.0.0.1:8080/kojihub bash
"""

from example_args import parse, run

from txkoji import build_states


def arguments(parser):
    parser.add_argument("package", help="package name")


async def main(koji, args):
    package = await koji.getPackage(args.package)
    if package is None:
        raise SystemExit(f"no package {args.package!r}")
    builds = await koji.listBuilds(
        package.id,
        state=build_states.COMPLETE,
        queryOpts={"order": "-completion_ts", "limit": 1},
    )
    if not builds:
        print(f"{package.name} has no completed build")
        return
    build = builds[0]
    print(f"{build.nvr} completed {build.completed:%Y-%m-%d %H:%M} UTC")
    print(f"  took {build.duration}; {build.url}")


if __name__ == "__main__":
    run(main, parse(__doc__.splitlines()[0], arguments))
