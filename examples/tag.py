"""Look up a Koji tag and print its arches and lock state.

python examples/tag.py --server http://127.0.0.1:8080/kojihub f40-build
"""

from example_args import parse, run


def arguments(parser):
    parser.add_argument("tag", help="tag name or numeric id")


async def main(koji, args):
    which = int(args.tag) if args.tag.isdigit() else args.tag
    tag = await koji.getTag(which)
    if tag is None:
        raise SystemExit(f"no tag {args.tag!r}")
    locked = "locked" if tag.locked else "unlocked"
    print(f"tag {tag.name} (id {tag.id}): arches {tag.arches or 'none'}, {locked}")


if __name__ == "__main__":
    run(main, parse(__doc__.splitlines()[0], arguments))
