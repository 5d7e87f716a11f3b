"""``sasdesk users``: manage accounts (administrators, scripts).

``list``, ``add``, ``disable``, ``enable``, ``reset-password``, ``unlock``,
``set-national-id`` (the identifier Pro Santé Connect proves: ``--national-id``),
``set-platform-id`` (the national SAS platform's identifier of an ARM or an OSNP, who have
no national one: ``--platform-id``; an appointment naming it finds the account). New passwords
follow the policy (app.domain.passwords). ``enable`` and ``reset-password`` also lift a lock
left by wrong passwords (app.hub.throttle); ``unlock`` lifts an address's lock (``--address``)
or an account's (``--username``) and changes nothing else. Disabling an account or
resetting its password ends its sessions at once: on PostgreSQL every hub hears it
(NOTIFY) and closes the desks' connections; on SQLite the hub finds out within a second.
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.cli import add_db_option, db_url
from app.domain.enums import Role

ACTIONS = (
    "list",
    "add",
    "disable",
    "enable",
    "reset-password",
    "unlock",
    "set-national-id",
    "set-platform-id",
)
#: The platform's identifiers are opaque: printable, no spaces, at most 64 characters.
PLATFORM_ID = re.compile(r"^[!-~]{1,64}$")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "users",
        help="comptes des postes (liste, ajout, désactivation, mot de passe)",
        description="Gère les comptes. Désactiver un compte ou changer son mot de passe "
        "ferme aussitôt ses sessions ouvertes, sur tous les hubs.",
    )
    add_db_option(parser)
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="FICHIER",
        help="configuration du hub (/etc/sasdesk/hub.toml) : sa base, si --db n'est pas donné",
    )
    parser.add_argument("action", choices=ACTIONS)
    parser.add_argument("--username", help="identifiant du compte")
    parser.add_argument(
        "--address",
        help="adresse IP d'un poste bloqué après des mots de passe erronés (unlock)",
    )
    parser.add_argument("--name", help="nom affiché (add)")
    parser.add_argument("--role", choices=[r.value for r in Role], help="rôle (add)")
    parser.add_argument(
        "--password", help="mot de passe (add, reset-password ; sinon demandé deux fois)"
    )
    parser.add_argument(
        "--national-id",
        metavar="IDENTIFIANT",
        help="identifiant national du professionnel, celui de Pro Santé Connect : 8 + RPPS "
        "(12 chiffres) pour un médecin, ou 0 + ADELI ; vide pour l'effacer (set-national-id)",
    )
    parser.add_argument(
        "--platform-id",
        metavar="IDENTIFIANT",
        help="identifiant que la plateforme SAS donne à un ARM ou un OSNP (sans identifiant "
        "national) : un rendez-vous qui le nomme revient à ce compte ; vide pour l'effacer "
        "(set-platform-id)",
    )
    parser.add_argument(
        "--password-env",
        metavar="VARIABLE",
        help="lit le mot de passe dans cette variable d'environnement (scripts)",
    )
    parser.set_defaults(run=run)


class UsersError(Exception):
    """A refusal, said in French, exit code 1 (2 for a misuse of the command)."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def run(args: argparse.Namespace) -> int:
    from app.db.engine import make_engine, make_sessionmaker
    from app.db.migrate import upgrade

    try:
        url = _db_url(args)
    except UsersError as exc:
        print(f"sasdesk users : {exc}", file=sys.stderr)
        return exc.code
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    try:
        if args.action == "list":
            list_users(sessions)
        elif args.action == "unlock":
            print(unlock(sessions, args))
        else:
            if not args.username:
                raise UsersError(f"sasdesk users {args.action} : --username est requis", 2)
            print(ACT[args.action](sessions, args))
    except UsersError as exc:
        print(f"sasdesk users : {exc}", file=sys.stderr)
        return exc.code
    finally:
        engine.dispose()
    return 0


def _db_url(args: argparse.Namespace) -> str:
    """``--db``, else the base of ``--config``'s hub file, else the embedded SQLite file."""
    if args.db or args.config is None:
        return db_url(args)
    from app.cli.sections import load_hub_config
    from app.config.hubfile import describe
    from app.config.tomlfile import FileError

    try:
        return load_hub_config(args.config).db_url
    except FileError as exc:
        raise UsersError(f"configuration refusée :\n{describe(exc)}", 2) from None


def list_users(sessions: sessionmaker[Session]) -> None:
    from app.db.models import LoginSession, User

    with sessions() as s:
        open_sessions = dict(
            s.execute(
                select(LoginSession.user_id, func.count())
                .where(LoginSession.revoked.is_(False))
                .group_by(LoginSession.user_id)
            ).all()
        )
        for user in s.scalars(select(User).order_by(User.username)):
            state = "actif" if user.active else "désactivé"
            count = open_sessions.get(user.id, 0)
            national_id = user.national_id or "-"
            platform_id = user.platform_id or "-"
            # The identifiers last: scripts reading the first columns keep working.
            print(
                f"{user.username}\t{user.role}\t{user.display_name}\t{state}"
                f"\t{count} session(s)\t{national_id}\t{platform_id}"
            )


def _new_password(args: argparse.Namespace) -> str:
    from app.domain.passwords import WeakPassword, check_new_password

    if args.password_env:
        password = os.environ.get(args.password_env, "")
        if not password:
            raise UsersError(f"la variable {args.password_env} est vide ou absente", 2)
    elif args.password:
        password = args.password
    else:
        password = getpass.getpass("Nouveau mot de passe : ")
        if getpass.getpass("Le même, encore : ") != password:
            raise UsersError("les deux saisies diffèrent : rien n'a changé")
    try:
        check_new_password(password, args.username)
    except WeakPassword as exc:
        raise UsersError(f"{exc} ; rien n'a changé") from None
    return password


def _user(s: Session, username: str) -> Any:
    from app.db.models import User

    user = s.scalar(select(User).where(User.username == username))
    if user is None:
        raise UsersError(f"aucun compte « {username} »")
    return user


def _end_sessions(s: Session, user_id: int, reason: str) -> int:
    """Revoke the account's sessions; every hub closes their connections."""
    from app.hub.auth import revoke_user_sessions

    ended = revoke_user_sessions(s, user_id, reason)
    if s.get_bind().dialect.name == "postgresql":
        from app.hub.fanout import notify_end

        notify_end(s, {"users": [user_id], "sessions": ended, "reason": reason})
    return len(ended)


def add(sessions: sessionmaker[Session], args: argparse.Namespace) -> str:
    from app.db.models import User
    from app.hub.auth import create_user

    if not args.role:
        raise UsersError("sasdesk users add : --role est requis", 2)
    if not USERNAME.match(args.username):
        raise UsersError(
            f"identifiant « {args.username} » refusé : 2 à 64 caractères parmi a-z, 0-9, "
            "point, tiret et souligné, en commençant par une lettre ou un chiffre"
        )
    role = Role(args.role)
    national_id = _national_id(args.national_id, role) if args.national_id else None
    platform_id = _platform_id(args.platform_id) if args.platform_id else None
    with sessions() as s:
        if s.scalar(select(User.id).where(User.username == args.username)) is not None:
            raise UsersError(f"le compte « {args.username} » existe déjà (rien n'a changé)")
        _unique_national_id(s, national_id, args.username)
        _unique_platform_id(s, platform_id, args.username)
    password = _new_password(args)
    with sessions.begin() as s:
        user = create_user(
            s, args.username, args.name or args.username, role, password, national_id
        )
        user.platform_id = platform_id
    said = f", identifiant national {national_id}" if national_id else ""
    said += f", identifiant plateforme SAS {platform_id}" if platform_id else ""
    return f"compte {args.username} créé ({role.label}{said})"


def _national_id(text: str, role: Role) -> str:
    """The identifier checked: its format, and an RPPS (8 + 11 digits) for a doctor."""
    from app.psc.national_id import BadNationalId, check_national_id

    try:
        value = check_national_id(text)
    except BadNationalId as exc:
        raise UsersError(f"{exc} ; rien n'a changé") from None
    if role.is_doctor and not value.startswith("8"):
        raise UsersError(
            f"un compte de médecin ({role.label}) porte un RPPS : 8 suivi des 11 chiffres "
            "(12 chiffres) ; rien n'a changé"
        )
    return value


def _unique_national_id(s: Session, national_id: str | None, username: str) -> None:
    from app.db.models import User

    if national_id is None:
        return
    other = s.scalar(
        select(User.username).where(User.national_id == national_id, User.username != username)
    )
    if other is not None:
        raise UsersError(
            f"l'identifiant national {national_id} est déjà celui du compte « {other} » "
            "(rien n'a changé)"
        )


def set_national_id(sessions: sessionmaker[Session], args: argparse.Namespace) -> str:
    """Give an existing account its national identifier (or clear it with an empty one).
    Its sessions are not ended: the identifier proves nothing until PSC proves it."""
    if args.national_id is None:
        raise UsersError("sasdesk users set-national-id : --national-id est requis", 2)
    with sessions.begin() as s:
        user = _user(s, args.username)
        if not args.national_id.strip():
            user.national_id = None
            return f"identifiant national de {args.username} effacé"
        value = _national_id(args.national_id, Role(user.role))
        _unique_national_id(s, value, args.username)
        user.national_id = value
    return f"identifiant national de {args.username} : {value}"


def _platform_id(text: str) -> str:
    value = text.strip()
    if not PLATFORM_ID.match(value):
        raise UsersError(
            f"identifiant plateforme « {value[:64]} » invalide : 1 à 64 caractères imprimables, "
            "sans espace ; rien n'a changé"
        )
    return value


def _unique_platform_id(s: Session, platform_id: str | None, username: str) -> None:
    from app.db.models import User

    if platform_id is None:
        return
    other = s.scalar(
        select(User.username).where(User.platform_id == platform_id, User.username != username)
    )
    if other is not None:
        raise UsersError(
            f"l'identifiant plateforme {platform_id} est déjà celui du compte « {other} » "
            "(rien n'a changé)"
        )


def set_platform_id(sessions: sessionmaker[Session], args: argparse.Namespace) -> str:
    """Give an existing account the platform's identifier (or clear it with an empty one)."""
    if args.platform_id is None:
        raise UsersError("sasdesk users set-platform-id : --platform-id est requis", 2)
    with sessions.begin() as s:
        user = _user(s, args.username)
        if not args.platform_id.strip():
            user.platform_id = None
            return f"identifiant plateforme SAS de {args.username} effacé"
        value = _platform_id(args.platform_id)
        _unique_platform_id(s, value, args.username)
        user.platform_id = value
    return f"identifiant plateforme SAS de {args.username} : {value}"


def disable(sessions: sessionmaker[Session], args: argparse.Namespace) -> str:
    with sessions.begin() as s:
        user = _user(s, args.username)
        user.active = False
        ended = _end_sessions(s, user.id, "disabled")
    return f"compte {args.username} désactivé ; {ended} session(s) fermée(s)"


def _lifted(s: Session, username: str) -> str:
    """Lift the account's lock after wrong passwords (kept in the database, every hub)."""
    from app.hub.throttle import lift

    return " ; blocage après mots de passe erronés levé" if lift(s, username) else ""


def enable(sessions: sessionmaker[Session], args: argparse.Namespace) -> str:
    with sessions.begin() as s:
        user = _user(s, args.username)
        user.active = True
        lifted = _lifted(s, args.username)
    return f"compte {args.username} réactivé{lifted}"


def reset_password(sessions: sessionmaker[Session], args: argparse.Namespace) -> str:
    from app.hub.auth import hash_password

    with sessions() as s:
        _user(s, args.username)
    password = _new_password(args)
    with sessions.begin() as s:
        user = _user(s, args.username)
        user.password_hash = hash_password(password)
        ended = _end_sessions(s, user.id, "revoked")
        lifted = _lifted(s, args.username)
    return f"mot de passe de {args.username} changé ; {ended} session(s) fermée(s){lifted}"


def unlock(sessions: sessionmaker[Session], args: argparse.Namespace) -> str:
    """Lift a lock left by wrong passwords before its time, for an address (a desk) or an
    account, on every hub at once (the counts live in the database)."""
    from app.db.types import utcnow
    from app.hub.throttle import lift, lift_address

    if not args.address and not args.username:
        raise UsersError("sasdesk users unlock : --address ou --username est requis", 2)
    lines = []
    if args.address:
        try:
            with sessions.begin() as s:
                failures, locked = lift_address(s, args.address, utcnow())
        except ValueError:
            raise UsersError(
                f"« {args.address} » n'est pas une adresse IP ; rien n'a changé", 2
            ) from None
        if locked:
            lines.append(f"adresse {args.address} : blocage levé ({failures} échec(s) oublié(s))")
        elif failures:
            lines.append(f"adresse {args.address} : pas de blocage ; {failures} échec(s) oublié(s)")
        else:
            lines.append(f"adresse {args.address} : aucun blocage ni échec compté")
    if args.username:
        with sessions.begin() as s:
            _user(s, args.username)
            lifted = lift(s, args.username)
        said = "blocage après mots de passe erronés levé" if lifted else "aucun blocage"
        lines.append(f"compte {args.username} : {said}")
    return "\n".join(lines)


ACT = {
    "add": add,
    "disable": disable,
    "enable": enable,
    "reset-password": reset_password,
    "set-national-id": set_national_id,
    "set-platform-id": set_platform_id,
}
