"""Print the average build duration of packages (one multicall).

python examples/durations.py --server http://127.0.0.1:8080/kojihub bash kernel
"""

from example_args import parse, run

from txkoji.estimates import average_build_durations


def arguments(parser):
    parser.add_argument("packages", nargs="+", help="package names")


async def main(koji, args):
    durations = await average_build_durations(koji, args.packages)
    for name, duration in zip(args.packages, durations, strict=True):
        shown = "no build history" if duration is None else str(duration)
        print(f"{name}: {shown}")


if __name__ == "__main__":
    run(main, parse(__doc__.splitlines()[0], arguments))
