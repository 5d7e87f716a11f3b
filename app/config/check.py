"""``sasdesk hub check``: is this configuration ready to serve, without starting a hub?

Each check says what it looked at and, when it fails, what to do, in French. The file
itself was already read (a wrong file never gets here); the checks look at what the
file points to: the database (reachable, schema revision), the certificate (dates, key),
the recordings store and the territory file; each feature's section adds its own
checks (``Section.check``: the appointment endpoint's authority and certificate).
"""

from __future__ import annotations

import json
import os
import ssl
from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.config.sections import Check, Section
from app.config.settings import HubSettings

#: A certificate expiring within this is reported (renew it before the room notices).
EXPIRY_WARNING = timedelta(days=30)


__all__ = ["Check", "certificate", "check", "report"]


def check(
    settings: HubSettings, sections: Sequence[Section[Any]] = (), now: datetime | None = None
) -> list[Check]:
    """Every check of ``settings``, those of the features' ``sections`` included."""
    now = now or datetime.now(UTC)
    where = str(settings.source) if settings.source else "aucun fichier (défauts et options)"
    out = [Check("configuration", True, where)]
    out.extend(_database(settings))
    if settings.tls.cert is not None:
        out.append(certificate(settings.tls.cert, settings.tls.key, now))
    if settings.recordings_store is not None:
        out.append(_writable_folder("enregistrements", settings.recordings_store))
    if settings.territory.file is not None:
        out.append(_territory(settings.territory.file))
    if settings.psc.enabled:
        out.append(_psc(settings))
        if settings.psc.cert_file is not None:
            cert = certificate(settings.psc.cert_file, settings.psc.key_file, now)
            out.append(replace(cert, name="certificat Pro Santé Connect"))
    for value in settings.sections:
        for section in sections:
            out.extend(section.checks(value, now))
    return out


def _psc(settings: HubSettings) -> Check:
    """PSC's discovery document and keys answer (the client's credentials are only tried
    by a real login: PSC has no endpoint to test them without a professional)."""
    from app.psc.client import PscClient
    from app.psc.errors import PscUnavailable

    client = PscClient(settings.psc)
    try:
        client.health()
        issuer = client.provider().issuer
    except PscUnavailable as exc:
        return Check(
            "Pro Santé Connect",
            False,
            f"injoignable ({exc}) : les rôles qui doivent utiliser PSC passeront par le "
            "mot de passe de secours s'il est permis",
        )
    finally:
        client.close()
    return Check("Pro Santé Connect", True, f"joignable, émetteur {issuer}")


def _database(settings: HubSettings) -> list[Check]:
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from app.db.engine import make_engine
    from app.db.migrate import schema_state

    engine = make_engine(settings.db_url)
    where = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        state = schema_state(engine)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return [Check("base de données", False, f"injoignable ({where}) : {reason}")]
    finally:
        engine.dispose()
    found = Check("base de données", True, f"joignable ({where})")
    if state.too_new:
        schema = Check(
            "schéma",
            False,
            f"révision « {state.current} » inconnue de cette "
            f"version (dernière connue « {state.head} ») : base mise à jour par une "
            "version plus récente, le hub refusera de démarrer",
        )
    elif state.current is None:
        schema = Check(
            "schéma", True, f"base vide : le hub la créera au démarrage (schéma « {state.head} »)"
        )
    elif not state.up_to_date:
        schema = Check(
            "schéma",
            True,
            f"révision « {state.current} » : le hub appliquera les "
            f"migrations jusqu'à « {state.head} » au démarrage",
        )
    else:
        schema = Check("schéma", True, f"à jour (révision « {state.head} »)")
    return [found, schema]


def certificate(cert: Path, key: Path | None, now: datetime) -> Check:
    """A certificate is readable, in date (not expiring within a month) and its key fits."""
    from cryptography import x509

    try:
        loaded = x509.load_pem_x509_certificate(cert.read_bytes())
    except (OSError, ValueError) as exc:
        return Check("certificat", False, f"{cert} illisible : {exc}")
    start, end = loaded.not_valid_before_utc, loaded.not_valid_after_utc
    dates = f"valable du {start:%d/%m/%Y} au {end:%d/%m/%Y}"
    if now < start:
        return Check("certificat", False, f"{cert} pas encore valable ({dates})")
    if now >= end:
        return Check("certificat", False, f"{cert} expiré ({dates}) : renouvelez-le")
    if key is not None:
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
        except (OSError, ssl.SSLError) as exc:
            return Check(
                "certificat", False, f"la clé {key} ne va pas avec le certificat {cert} ({exc})"
            )
    days = (end - now).days
    if end - now < EXPIRY_WARNING:
        return Check(
            "certificat", False, f"{cert} expire dans {days} jours ({dates}) : renouvelez-le"
        )
    return Check("certificat", True, f"{cert} {dates} (encore {days} jours)")


def _writable_folder(name: str, folder: Path) -> Check:
    if not folder.is_dir():
        return Check(name, False, f"{folder} n'existe pas (créez-le, propriétaire sasdesk)")
    if not os.access(folder, os.W_OK | os.X_OK):
        return Check(name, False, f"{folder} n'est pas accessible en écriture")
    return Check(name, True, f"{folder} accessible en écriture")


def _territory(path: Path) -> Check:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        communes = len(data["communes"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return Check("territoire", False, f"{path} illisible ({exc})")
    return Check("territoire", True, f"{path} : {communes} communes")


def report(results: list[Check], *, as_json: bool = False) -> str:
    if as_json:
        return json.dumps(
            {"ok": all(r.ok for r in results), "checks": [asdict(r) for r in results]},
            ensure_ascii=False,
            indent=2,
        )
    lines = [f"{'ok    ' if r.ok else 'ERREUR'} {r.name} : {r.detail}" for r in results]
    verdict = "configuration prête" if all(r.ok for r in results) else "configuration à corriger"
    return "\n".join([*lines, verdict])
