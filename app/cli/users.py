"""``sasdesk users``: manage accounts (administrators, scripts)."""

from __future__ import annotations

import argparse
import getpass
import sys

from sqlalchemy import select

from app.cli import add_db_option, db_url
from app.domain.enums import Role


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("users", help="comptes des postes (liste, ajout)")
    add_db_option(parser)
    parser.add_argument("action", choices=("list", "add"))
    parser.add_argument("--username")
    parser.add_argument("--name", help="nom affiché")
    parser.add_argument("--role", choices=[r.value for r in Role])
    parser.add_argument("--password", help="mot de passe (sinon demandé)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from app.db.engine import make_engine, make_sessionmaker
    from app.db.migrate import upgrade
    from app.db.models import User
    from app.hub.auth import create_user

    engine = make_engine(db_url(args))
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    if args.action == "list":
        with sessions() as s:
            for user in s.scalars(select(User).order_by(User.username)):
                print(f"{user.username}\t{user.role}\t{user.display_name}")
        return 0
    if not (args.username and args.role):
        print("sasdesk users add : --username et --role sont requis", file=sys.stderr)
        return 2
    password = args.password or getpass.getpass("Mot de passe : ")
    with sessions.begin() as s:
        if s.scalar(select(User.id).where(User.username == args.username)):
            print(f"le compte {args.username} existe déjà", file=sys.stderr)
            return 1
        create_user(s, args.username, args.name or args.username, Role(args.role), password)
    print(f"compte {args.username} créé ({Role(args.role).label})")
    return 0
