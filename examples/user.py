"""Fetch a Koji user by name or id and print who they are.

python examples/user.py --server http://127.0.0.1:8080/kojihub alice
"""

from example_args import parse, run


def arguments(parser):
    parser.add_argument("user", help="user name or numeric id")


async def main(koji, args):
    who = int(args.user) if args.user.isdigit() else args.user
    user = await koji.getUser(who)
    if user is None:
        raise SystemExit(f"no user {args.user!r}")
    principals = ", ".join(user.get("krb_principals") or []) or "none"
    print(f"user {user.name} (id {user.id}), kerberos principals: {principals}")


if __name__ == "__main__":
    run(main, parse(__doc__.splitlines()[0], arguments))
