"""``sasdesk`` (embedded default) and ``sasdesk desk [--hub URL]``.

Without ``--hub``, the desk uses its saved settings (``app.config.desk``: hub, SIP
account, headset; the SIP password from the system keyring); without saved settings,
or with ``--wizard``, it opens the first-run wizard. Flags override the saved values.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.options import db_url
from app.cli.phone import add_sip_security
from app.client.network import local_ip_for
from app.resources import data_dir

if TYPE_CHECKING:
    from app.client.trust import HubTrust
    from app.config.desk import DeskSettings
    from telephony.line import PhoneLine
    from telephony.sip import SipLine
    from telephony.training import TrainingLine


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "desk",
        help="démarre un poste relié à un hub existant",
        description="Démarre un poste (interface Qt) relié à un hub. Sans option : les "
        "réglages enregistrés par l'assistant (hub, ligne SIP, casque) ; au premier "
        "démarrage, l'assistant. Le mot de passe SIP est lu dans le trousseau du système "
        "(ou la variable SASDESK_SIP_PASSWORD), jamais sur la ligne de commande.",
    )
    parser.add_argument(
        "--hub",
        default=None,
        metavar="wss://HÔTE:PORT",
        help="adresse du hub, par exemple wss://hub.samu17.local:8765 (ws:// : en clair), ou "
        "plusieurs séparées par des virgules (le poste passe à la suivante si la sienne "
        "tombe) ; défaut : celle des réglages enregistrés",
    )
    parser.add_argument(
        "--wizard",
        action="store_true",
        help="rouvre l'assistant de configuration (hub, ligne SIP, casque, connexion)",
    )
    parser.add_argument(
        "--ca",
        type=Path,
        default=None,
        metavar="FICHIER",
        help="autorité de certification (PEM) qui a signé le certificat du hub (wss://) ; "
        "défaut : le magasin du système, puis l'empreinte épinglée",
    )
    parser.add_argument(
        "--fingerprint",
        default=None,
        metavar="SHA256",
        help="empreinte SHA-256 du certificat du hub, donnée par son administrateur : "
        "épinglée pour cette adresse (remplace la précédente)",
    )
    parser.add_argument(
        "--training", action="store_true", help="utilise la ligne d'entraînement (appels simulés)"
    )
    parser.add_argument(
        "--ring-every",
        type=float,
        default=45.0,
        metavar="SECONDES",
        help="ligne d'entraînement : un appel toutes les N secondes (0 : à la demande, Ctrl+T)",
    )
    _add_sip_line(parser.add_argument_group("ligne SIP (à la place de la ligne d'entraînement)"))
    parser.set_defaults(run=run)


def _add_sip_line(sip: argparse._ArgumentGroup) -> None:
    """The desk's SIP line: registrar, account, local address, security, recordings."""
    sip.add_argument("--sip-server", metavar="HÔTE", help="registrar/proxy SIP de la salle")
    sip.add_argument("--sip-port", type=int, default=5060)
    sip.add_argument("--sip-user", metavar="POSTE", help="identifiant SIP du poste")
    sip.add_argument(
        "--sip-domain",
        default="",
        metavar="DOMAINE",
        help="domaine SIP de la salle (défaut : le serveur)",
    )
    sip.add_argument(
        "--sip-password-env",
        default="SASDESK_SIP_PASSWORD",
        metavar="VARIABLE",
        help="variable d'environnement qui contient le mot de passe SIP (défaut "
        "SASDESK_SIP_PASSWORD ; jamais sur la ligne de commande)",
    )
    sip.add_argument(
        "--sip-local-host",
        default=None,
        metavar="IP",
        help="adresse locale annoncée (défaut : celle qui mène au serveur)",
    )
    sip.add_argument("--sip-local-port", type=int, default=0, metavar="PORT")
    add_sip_security(sip)
    sip.add_argument(
        "--record",
        type=Path,
        default=None,
        metavar="DOSSIER",
        help="enregistre chaque appel en WAV dans ce dossier (obligation légale)",
    )
    sip.add_argument(
        "--retention-days",
        type=float,
        default=0.0,
        metavar="JOURS",
        help="au démarrage, supprime les enregistrements de --record plus anciens "
        "que N jours (défaut 0 : tout garder)",
    )


def sip_line(args: argparse.Namespace) -> SipLine:
    from app.config.desk import DeskSettings, sip_password
    from telephony.sip import SipConfig, SipLine

    account = DeskSettings(
        sip_server=args.sip_server, sip_port=args.sip_port, sip_user=args.sip_user or ""
    )
    password = os.environ.get(args.sip_password_env, "") or sip_password(account)
    if not args.sip_user or not password:
        raise SystemExit(
            f"ligne SIP : --sip-user et le mot de passe sont requis (trousseau du système, "
            f"enregistré par l'assistant « sasdesk desk --wizard », ou la variable "
            f"{args.sip_password_env})"
        )
    ca_file = getattr(args, "sip_ca_file", None)
    if ca_file is not None and not ca_file.is_file():
        raise SystemExit(f"ligne SIP : fichier CA introuvable : {ca_file}")
    config = SipConfig(
        transport=getattr(args, "sip_transport", "udp"),
        tls_ca_file=ca_file,
        srtp=getattr(args, "sip_srtp", "offered"),
        server=args.sip_server,
        port=args.sip_port,
        user=args.sip_user,
        password=password,
        domain=getattr(args, "sip_domain", ""),
        # the desk plays calls in its headset (the null device when none is found),
        # unless its saved settings say it has none
        use_headset=getattr(args, "use_headset", True),
        local_host=args.sip_local_host or local_ip_for(args.sip_server, args.sip_port),
        sip_port=args.sip_local_port,
        record_dir=args.record,
    )
    return SipLine(config)


def _training_line(every: float) -> TrainingLine:
    from telephony.training import TrainingLine

    return TrainingLine(interval=every)


def hub_trust(args: argparse.Namespace) -> HubTrust:
    """How this desk checks the hub's certificate (--ca, --fingerprint, pinned ones)."""
    from app.client.trust import HubTrust, hub_address
    from app.config.desk import split_hubs
    from app.hub.fingerprints import normalise_fingerprint

    trust = HubTrust(ca_file=args.ca)
    if args.ca is not None and not args.ca.is_file():
        raise SystemExit(f"sasdesk desk : fichier CA introuvable : {args.ca}")
    if args.fingerprint:
        try:
            trust.pins.put(
                hub_address(split_hubs(args.hub)[0]),  # the first hub's
                normalise_fingerprint(args.fingerprint),
            )
        except ValueError as exc:
            raise SystemExit(f"sasdesk desk : {exc}") from None
    return trust


def saved_line(settings: DeskSettings, record: Path | None = None) -> PhoneLine:
    """The SIP line of the saved settings (password from the keyring), else the training
    line on demand."""
    if not settings.has_sip:
        return _training_line(0.0)
    args = argparse.Namespace(
        sip_server=settings.sip_server,
        sip_port=settings.sip_port,
        sip_user=settings.sip_user,
        sip_password_env="SASDESK_SIP_PASSWORD",
        sip_local_host=None,
        sip_local_port=0,
        record=record,
        sip_domain=settings.sip_domain,
        use_headset=settings.use_headset,
    )
    return sip_line(args)


#: The desk's own log: a few files of a few MB, the oldest dropped (a desk PC is not a
#: server: nothing else rotates its logs). The hub logs to the journal (docs/deploy.md).
LOG_BYTES, LOG_FILES = 5 * 1024 * 1024, 5


def log_to_file() -> Path:
    """Add a rotating file beside the console log: ~/.local/state/sasdesk/log/desk.log on
    Linux, %LOCALAPPDATA%\\sasdesk\\Logs on Windows (platformdirs)."""
    import logging
    from logging.handlers import RotatingFileHandler

    import platformdirs

    folder = Path(platformdirs.user_log_dir("sasdesk", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(
        folder / "desk.log", maxBytes=LOG_BYTES, backupCount=LOG_FILES, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    return folder / "desk.log"


def run(args: argparse.Namespace) -> int:
    import logging

    from app.config.desk import load_desk_settings
    from app.config.tomlfile import FileError
    from ui.launch import run as run_ui
    from ui.launch import run_wizard

    logging.getLogger(__name__).info("desk starting, log in %s", log_to_file())

    if args.hub is None:
        try:
            settings = load_desk_settings()
        except FileError as exc:
            raise SystemExit(f"sasdesk desk : réglages du poste illisibles :\n{exc}") from None
        if args.wizard or not settings.configured:
            return run_wizard(
                settings, data_dir() / "outbox.json", lambda s: saved_line(s, args.record)
            )
        args.hub = settings.hub_url
        if args.ca is None and settings.ca_file:
            args.ca = Path(settings.ca_file)
        if not args.sip_server and not args.training and settings.has_sip:
            args.sip_server, args.sip_port = settings.sip_server, settings.sip_port
            args.sip_user = args.sip_user or settings.sip_user
            args.sip_domain, args.use_headset = settings.sip_domain, settings.use_headset
        elif not args.sip_server and not args.training:
            # "Ce poste n'a pas de ligne SIP": the training line, ringing on demand (Ctrl+T)
            args.training, args.ring_every = True, 0.0
    trust = hub_trust(args)

    line: PhoneLine | None
    if args.sip_server:
        line = sip_line(args)
        if args.record and args.retention_days:
            from telephony.audio.recorder import purge_recordings

            purged = purge_recordings(args.record, args.retention_days)
            if purged:
                print(
                    f"{len(purged)} enregistrement(s) de plus de {args.retention_days:g} "
                    "jours supprimé(s)"
                )
    else:
        line = _training_line(args.ring_every) if args.training else None
    from app.config.desk import split_hubs

    hubs = split_hubs(args.hub)
    return run_ui(hubs if len(hubs) > 1 else hubs[0], line, data_dir() / "outbox.json", trust=trust)


def run_embedded(args: argparse.Namespace) -> int:
    """The embedded default: hub in-process on SQLite, demo territory, training line."""
    from app.demo.seed import Demo
    from app.room.embedded import EmbeddedHub
    from ui.launch import run as run_ui

    hub = EmbeddedHub(db_url(args), demo=Demo())
    url = hub.start()
    try:
        return run_ui(url, _training_line(45.0), data_dir() / "outbox.json")
    finally:
        hub.stop()
