"""`ecc user add|passwd|list`: accounts, from the command line of the center's machine."""

from __future__ import annotations

import argparse
import getpass
import re
import sys
import time

from ecc import times
from ecc.cli.boot import load_config
from ecc.command_center.auth import hash_password
from ecc.command_center.permissions import USER_ROLES
from ecc.config import signing_secret
from ecc.storage import Conflict, NotFound, open_store
from ecc.storage.models import User
from ecc.tokens import Tokens

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("user", help="manage user accounts")
    users = p.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = users.add_parser("add", help="add a user")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=USER_ROLES)
    add.add_argument("--language", default="zh-CN", choices=["zh-CN", "en"])
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.set_defaults(func=add_user)
    pw = users.add_parser("passwd", help="set a user's password")
    pw.add_argument("name")
    pw.add_argument("--password-stdin", action="store_true")
    pw.set_defaults(func=set_password)
    ls = users.add_parser("list", help="list users")
    ls.set_defaults(func=list_users)
    tk = users.add_parser(
        "token", help="print a token for a device of the user (a vehicle agent, `ecc vehicle`)"
    )
    tk.add_argument("name")
    tk.add_argument("--days", type=float, default=30, help="how long it is valid (default 30)")
    tk.set_defaults(func=issue_token)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise SystemExit("ecc: the passwords differ")
    if len(password) < 8:
        raise SystemExit("ecc: a password needs at least 8 characters")
    return password


def add_user(args: argparse.Namespace) -> int:
    if not USERNAME.match(args.name):
        print(
            f"ecc: {args.name!r} is not a valid user name (letters, digits, _ . -)", file=sys.stderr
        )
        return 2
    settings, _ = load_config()
    password = _password(args.password_stdin)
    store = open_store(settings.database_url)
    try:
        store.users.add(
            User(args.name, args.role, hash_password(password), time.time(), language=args.language)
        )
    except Conflict:
        print(f"ecc: user {args.name} exists", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"added {args.name} ({args.role})")
    return 0


def set_password(args: argparse.Namespace) -> int:
    settings, _ = load_config()
    password = _password(args.password_stdin)
    store = open_store(settings.database_url)
    try:
        store.users.update(args.name, password_hash=hash_password(password))
    except NotFound:
        print(f"ecc: no user {args.name}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"password of {args.name} changed")
    return 0


def list_users(args: argparse.Namespace) -> int:
    settings, _ = load_config()
    store = open_store(settings.database_url)
    try:
        for u in store.users.list():
            state = "disabled" if u.disabled else "active"
            print(f"{u.username}\t{u.role}\t{state}")
    finally:
        store.close()
    return 0


def issue_token(args: argparse.Namespace) -> int:
    """A longer-lived token than a login's, for a device that runs unattended. It is still the
    user's: disabling the user (or changing the role) takes effect at once."""
    if not 0 < args.days <= 366:
        print("ecc: --days must be more than 0 and at most 366", file=sys.stderr)
        return 2
    settings, _ = load_config()
    store = open_store(settings.database_url)
    try:
        user = store.users.get(args.name)
    finally:
        store.close()
    if user is None or user.disabled:
        print(f"ecc: no active user {args.name}", file=sys.stderr)
        return 1
    tokens = Tokens(signing_secret(settings), settings.auth.token_ttl_s)
    token, claims = tokens.issue(user.username, user.role, ttl_s=args.days * 86400)
    print(token)
    print(f"valid until {times.iso(claims.exp)}", file=sys.stderr)
    return 0
