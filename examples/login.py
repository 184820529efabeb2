"""Log in to a Koji hub and print who the hub says you are.

python examples/login.py --profile fedora
python examples/login.py --server https://koji.example.com/kojihub \
    --authtype ssl --cert ~/.koji/client.crt --serverca ~/.koji/serverca.crt
python examples/login.py --server https://koji.example.com/kojihub \
    --authtype kerberos --principal me@EXAMPLE.COM --keytab ~/me.keytab
"""

from example_args import parse
from twisted.internet import defer, task

from txkoji import Connection

LOGIN_OPTIONS = ("authtype", "cert", "principal", "keytab")


def arguments(parser):
    parser.add_argument("--authtype", help="ssl or kerberos (default: as koji)")
    parser.add_argument("--cert", help="PEM file with client certificate and key")
    parser.add_argument("--principal", help="Kerberos principal (with --keytab)")
    parser.add_argument("--keytab", help="keytab holding the principal's key")


def connect(args) -> Connection:
    options = {name: getattr(args, name) for name in LOGIN_OPTIONS}
    options = {name: value for name, value in options.items() if value}
    if args.serverca:
        options["serverca"] = args.serverca
    if args.profile:
        return Connection(args.profile, **options)
    return Connection(server=args.server, **options)


async def main(reactor, args) -> None:
    koji = connect(args)
    try:
        await koji.login()
        user = await koji.getLoggedInUser()
        print(
            f"logged in as {user['name']} (user id {user['id']}), session "
            f"{koji.session_id}"
        )
    finally:
        await koji.close()  # logs out first


if __name__ == "__main__":
    args = parse(__doc__.splitlines()[0], arguments)
    task.react(lambda reactor: defer.ensureDeferred(main(reactor, args)))
