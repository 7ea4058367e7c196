"""The `hgkm users list|check` and `hgkm audit` commands: roles and the audit log from a shell."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime

from hgkm import access, audit
from hgkm.config import config_file_path
from hgkm.errors import UsageError
from hgkm.settings import Paths


def register(subparsers: argparse._SubParsersAction) -> None:
    users = subparsers.add_parser("users", help="who gets which role in the dashboard")
    actions = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="every entry of [roles] in hgkm.toml")
    listing.set_defaults(handler=list_command)
    check = actions.add_parser("check", help="what someone would get on signing in")
    check.add_argument("email", help="the e-mail address the identity provider sends")
    check.add_argument("--subject", help="their OpenID Connect subject (sub), if known")
    check.add_argument(
        "--group",
        action="append",
        default=[],
        help="a value of their group claim (repeat for several)",
    )
    check.set_defaults(handler=check_command)

    log = subparsers.add_parser("audit", help="read the audit log (sign-ins, refusals, ...)")
    log.add_argument("--since", help="from this date or time on (local time), e.g. 2026-12-01")
    log.add_argument("--user", help="only this user (e-mail address or subject)")
    log.add_argument("--action", help=f"only this action ({', '.join(audit.ACTIONS)}, ...)")
    log.add_argument("--json", action="store_true", help="print the events as JSON lines")
    log.set_defaults(handler=audit_command)


def list_command(args: argparse.Namespace, paths: Paths) -> int:
    roles = access.load_roles()
    print(f"Roles from {_source()}")
    print(
        "Without sign-in the published part is "
        + ("open to everyone (public = true)." if roles.public else "closed (public = false).")
    )
    print("Anyone signed in without an entry below gets: public.")
    print("")
    print("People ([roles.users]):")
    if not roles.users:
        print("  none")
    for key, grant in sorted(roles.users.items()):
        print(f"  {key:<36} {access.describe(grant)}")
    print(f'Groups ([roles.groups], matched against the "{roles.claim}" claim):')
    if not roles.groups:
        print("  none")
    for key, grant in sorted(roles.groups.items()):
        print(f"  {key:<36} {access.describe(grant)}")
    print("")
    print("What each role sees:")
    for role in access.ROLES.values():
        print(f"  {role.name:<13} {role.sees}")
    return 0


def check_command(args: argparse.Namespace, paths: Paths) -> int:
    roles = access.load_roles()
    claims = {"email": args.email, roles.claim: args.group}
    if args.subject:
        claims["sub"] = args.subject
    grant = roles.resolve(claims)
    print(f"{args.email}: {access.describe(grant)}")
    print(f"  from: {grant.source}")
    print(f"  sees: {grant.scope.spec.sees}")
    return 0


def _source() -> str:

    path = config_file_path()
    return str(path) if path.is_file() else f"{path} (not present: the defaults)"


def audit_command(args: argparse.Namespace, paths: Paths) -> int:
    since = None
    if args.since:
        try:
            since = datetime.fromisoformat(args.since).astimezone()
        except ValueError:
            raise UsageError(f"--since {args.since!r} is not a date or time (2026-12-01)") from None
    log = audit.read(paths.audit_log)
    events = audit.select(log.events, since=since, user=args.user, action=args.action)
    for event in events:
        if args.json:
            print(json.dumps(event, ensure_ascii=False))
        else:
            what = " ".join(f"{k}={v}" for k, v in event.get("what", {}).items())
            print(
                f"{event['ts']}  {event['user']:<28} {event['role']:<12} {event['action']:<9} "
                + what
            )
    if not args.json and not events:
        print(f"no events in {paths.audit_log}" + (" matching the filters" if log.events else ""))
    if log.unreadable:
        lines = ", ".join(map(str, log.unreadable))
        print(
            f"{paths.audit_log}: skipped {len(log.unreadable)} unreadable line(s): {lines} "
            "(a torn last line is what a crash during a write leaves)",
            file=sys.stderr,
        )
    return 0
