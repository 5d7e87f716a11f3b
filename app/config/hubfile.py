"""Read the hub's configuration file (``/etc/sasdesk/hub.toml``) into ``HubSettings``.

The file is edited by hand by the room's IT team: every key is known here, with its
type and range; an unknown table or key, a wrong type or value is reported with the
file, the line and the key, in French, all problems at once, and nothing of the file is
used (the hub does not start half-configured). The tables here are the kernel's; a
feature's tables (the call-back's room settings, the appointment endpoint, the
platform's search) are read by the feature's own ``Section`` (``app.config.sections``),
which the command line hands to ``load_hub_file``. Relative paths are taken from the
configuration file's folder.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from app.config import values as v
from app.config.sections import Key, Reading, Section, tables_of
from app.config.settings import FhirEditorSettings, HubSanteSettings, HubSettings
from app.config.tomlfile import FileError, FileProblem, line_of, read_toml
from app.config.values import Invalid
from app.psc.settings import DEFAULT_ROLES, Fallback, Policy

DEFAULT_PATH = Path("/etc/sasdesk/hub.toml")
#: Names another default file; set to "" for none (tests, a desk's embedded hub).
ENV_PATH = "SASDESK_CONFIG"

SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def _days(value: Any, _base: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise Invalid("doit être un nombre entier de jours, au moins 1")
    return value


def _share(value: Any, _base: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise Invalid("doit être une part entre 0 et 1 (0.99 pour 99 %)")
    return float(value)


def _cap(value: Any, _base: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 200:
        raise Invalid("doit être un nombre entier de patients, de 1 à 200")
    return value


def _dossier_count(value: Any, _base: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
        raise Invalid("doit être un nombre entier de dossiers, de 1 à 1000")
    return value


def _db_url(value: Any, base: Path) -> str:
    text = v.text(value, base)
    try:
        url = make_url(text)
    except ArgumentError:
        raise Invalid(f"URL de base de données illisible : « {text} »") from None
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise Invalid(f"base « {backend} » non prise en charge (sqlite:/// ou postgresql://)")
    sslmode = url.query.get("sslmode")
    if sslmode is not None and sslmode not in SSLMODES:
        raise Invalid(f"sslmode « {sslmode} » inconnu (attendu : {', '.join(SSLMODES)})")
    return text


def _client_id(value: Any, base: Path) -> str:
    text = v.text(value, base)
    if not text.startswith("fr.") or len(text.split(".")) < 3:
        raise Invalid("identifiant Hub Santé attendu, de la forme fr.health.samu017")
    return text


def _amqps(value: Any, base: Path) -> str:
    text = v.text(value, base)
    if not text.startswith("amqps://"):
        raise Invalid("URL amqps://hôte:port/vhost attendue (le Hub Santé n'accepte que TLS)")
    return text


def _message_status(value: Any, base: Path) -> str:
    text = v.text(value, base)
    if text not in ("Actual", "Exercise"):
        raise Invalid("Actual (réel) ou Exercise (plateforme de formation)")
    return text


def _hours(value: Any, _base: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 1 <= value <= 720:
        raise Invalid("doit être un nombre d'heures, de 1 à 720")
    return float(value)


def _idle_minutes(value: Any, _base: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 720:
        raise Invalid("doit être un nombre de minutes, de 0 (jamais) à 720")
    return float(value)


def _shift_hours(value: Any, _base: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 1 <= value <= 24:
        raise Invalid("doit être un nombre d'heures, de 1 à 24")
    return float(value)


def _attempts(value: Any, _base: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
        raise Invalid("doit être un nombre entier d'essais, de 1 à 1000")
    return value


def _delay_seconds(value: Any, _base: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 1 <= value <= 600:
        raise Invalid("doit être un nombre de secondes, de 1 à 600")
    return float(value)


_EDITOR_KEYS = ("nom", "url", "delai_secondes", "jeton", "ca", "certificat", "cle")


def _editors(value: Any, base: Path) -> tuple[FhirEditorSettings, ...]:
    """[[fhir.editeurs]] tables: nom, url (https://…/fhir), delai_secondes, jeton, ca,
    certificat, cle."""
    if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
        raise Invalid("une table [[fhir.editeurs]] par éditeur d'agenda")
    out = []
    for n, e in enumerate(value, start=1):
        v.known_keys(n, e, _EDITOR_KEYS)
        if not e.get("nom") or not str(e.get("url", "")).startswith(("https://", "http://")):
            raise Invalid(f"éditeur n° {n} : nom et url (https://…) obligatoires")
        delay = e.get("delai_secondes", 10)
        if isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 < delay <= 120:
            raise Invalid(f"éditeur n° {n} : delai_secondes de 1 à 120")
        out.append(FhirEditorSettings(
            name=v.text(e["nom"], base), base_url=v.text(e["url"], base), timeout_s=float(delay),
            token=v.text(e.get("jeton", ""), base),
            ca_file=v.file(e["ca"], base) if "ca" in e else None,
            cert_file=v.file(e["certificat"], base) if "certificat" in e else None,
            key_file=v.file(e["cle"], base) if "cle" in e else None,
        ))  # fmt: skip
    if len({e.name for e in out}) != len(out):
        raise Invalid("deux éditeurs portent le même nom")
    return tuple(out)


def _psc_url(value: Any, base: Path) -> str:
    text = v.text(value, base)
    if not text.startswith(("https://", "http://127.0.0.1:", "http://localhost:")):
        raise Invalid(
            "URL https://… du document de découverte de Pro Santé Connect attendue, p. ex. "
            "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet/.well-known/"
            "wallet-openid-configuration"
        )
    return text


def _secret_file(value: Any, base: Path) -> str:
    """The client secret, read from a file only its owner may read."""
    path = v.file(value, base)
    if path.stat().st_mode & 0o077:
        raise Invalid(f"{path} est lisible par d'autres comptes : chmod 600 {path}")
    secret = path.read_text(encoding="utf-8").strip()
    if not secret:
        raise Invalid(f"{path} est vide")
    return secret


def _secret_env(value: Any, base: Path) -> str:
    name = v.text(value, base)
    secret = os.environ.get(name, "").strip()
    if not secret:
        raise Invalid(f"la variable d'environnement {name} est vide ou absente")
    return secret


_POLICIES = {"obligatoire": Policy.MUST, "possible": Policy.MAY, "mot_de_passe": Policy.PASSWORD}


def _psc_roles(value: Any, _base: Path) -> dict[str, Policy]:
    """roles = { MRL = "obligatoire" | "possible" | "mot_de_passe", … } per role."""
    from app.domain.enums import Role

    if not isinstance(value, dict):
        raise Invalid('une table [psc.roles], p. ex. MRL = "obligatoire"')
    roles = [str(r) for r in Role]
    out: dict[str, Policy] = {}
    for role, policy in value.items():
        if role not in roles:
            raise Invalid(f"rôle « {role} » inconnu (rôles : {', '.join(roles)})")
        if policy not in _POLICIES:
            raise Invalid(f"{role} : « {policy} » inconnu (attendu : {', '.join(_POLICIES)})")
        out[role] = _POLICIES[policy]
    return {**DEFAULT_ROLES, **out}  # a role left out keeps its default


def _psc_fallback(value: Any, base: Path) -> Fallback:
    text = v.text(value, base)
    choices = {"mot_de_passe_motive": Fallback.PASSWORD_WITH_REASON, "aucun": Fallback.NONE}
    if text not in choices:
        raise Invalid(f"« {text} » inconnu (attendu : {', '.join(choices)})")
    return choices[text]


def _psc_timeout(value: Any, _base: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 1 <= value <= 60:
        raise Invalid("doit être un nombre de secondes, de 1 à 60")
    return float(value)


_ROR_KEYS = ("url", "delai_secondes", "jeton", "ca", "certificat", "cle", "profil")
#: The ROR's consumer headers (ROR-fhir-documentation, consommation-api): profile
#: (CU23: the SAS' automated reader), its system, and the business role AUTOMATE.
ROR_PROFILE_SYSTEM = "1.2.250.1.213.1.6.1.66"
ROR_ROLE = ("AUTOMATE", "1.2.250.1.213.1.1.4.6")


def _ror(value: Any, base: Path) -> FhirEditorSettings:
    """[fhir.ror]: url (https://…/fhir), delai_secondes, jeton, ca, certificat, cle, profil."""
    if not isinstance(value, dict):
        raise Invalid("une table [fhir.ror] : url, delai_secondes, jeton, ca, certificat, cle")
    unknown = [k for k in value if k not in _ROR_KEYS]
    if unknown:
        raise Invalid(
            f"clé(s) inconnue(s) {', '.join(unknown)} (clés connues : {', '.join(_ROR_KEYS)})"
        )
    profile = v.text(value.get("profil", "CU23"), base)
    fields = {k: v for k, v in value.items() if k != "profil"}
    (server,) = _editors([{"nom": "ROR", "delai_secondes": 60, **fields}], base)
    headers = (
        ("Ror-Profil-Utilisateur-Code", profile),
        ("Ror-Profil-Utilisateur-System", ROR_PROFILE_SYSTEM),
        ("Ror-Role-Metier-Code", ROR_ROLE[0]),
        ("Ror-Role-Metier-System", ROR_ROLE[1]),
    )
    return replace(server, headers=headers)


#: Every key of the kernel's tables (the features' are in their sections). Add a line per
#: new setting.
KEYS: tuple[Key, ...] = (
    Key("base", "url", "db_url", _db_url),
    Key("ecoute", "adresse", "host", v.text),
    Key("ecoute", "port", "port", v.port),
    Key("ecoute", "compression", "compression", v.flag),
    Key("tls", "certificat", "tls.cert", v.file),
    Key("tls", "cle", "tls.key", v.file),
    Key("tls", "sans_tls", "tls.insecure", v.flag),
    Key("enregistrements", "dossier", "recordings_store", v.path),
    Key("conservation", "dossiers_jours", "retention.dossiers_days", _days),
    Key("conservation", "enregistrements_jours", "retention.recordings_days", _days),
    Key("conservation", "audit_jours", "retention.audit_days", _days),
    Key("territoire", "nom", "territory.name", v.text),
    Key("territoire", "fichier", "territory.file", v.file),
    Key("objectifs", "decroche", "targets.answered", _share),
    Key("objectifs", "plafond_snp_semaine", "targets.weekly_snp_cap", _cap),
    Key("sessions", "inactivite_minutes", "sessions.idle_minutes", _idle_minutes),
    Key("sessions", "duree_max_heures", "sessions.max_shift_hours", _shift_hours),
    Key("sessions", "essais_avant_delai", "sessions.throttle_after", _attempts),
    Key("sessions", "delai_max_secondes", "sessions.max_delay_seconds", _delay_seconds),
    Key("sessions", "essais_avant_verrou", "sessions.lock_after", _attempts),
    Key("sessions", "verrou_minutes", "sessions.lock_minutes", v.minutes),
    Key("sessions", "adresse_essais_avant_delai", "sessions.address_throttle_after", _attempts),
    Key("sessions", "adresse_essais_avant_verrou", "sessions.address_lock_after", _attempts),
    Key("anteriorites", "jours", "history.days", _days),
    Key("anteriorites", "appelant_frequent", "history.frequent_after", _dossier_count),
    Key("fhir", "editeurs", "fhir.editors", _editors),
    Key("fhir", "rafraichir_minutes", "fhir.refresh_minutes", v.minutes),
    Key("fhir", "fenetre_heures", "fhir.window_hours", _hours),
    Key("fhir", "ror", "fhir.ror", _ror),
    Key("fhir", "ror_rafraichir_minutes", "fhir.ror_refresh_minutes", v.minutes),
    Key("hubsante", "identifiant", "hubsante.client_id", _client_id),
    Key("hubsante", "url", "hubsante.url", _amqps),
    Key("hubsante", "ca", "hubsante.ca_file", v.file),
    Key("hubsante", "certificat", "hubsante.cert_file", v.file),
    Key("hubsante", "cle", "hubsante.key_file", v.file),
    Key("hubsante", "destinataire", "hubsante.default_recipient", _client_id),
    Key("hubsante", "statut", "hubsante.status", _message_status),
    Key("hubsante", "plateforme_sas", "hubsante.platform_id", _client_id),
    Key("psc", "decouverte", "psc.discovery_url", _psc_url),
    Key("psc", "identifiant_client", "psc.client_id", v.text),
    Key("psc", "secret_fichier", "psc.client_secret", _secret_file),
    Key("psc", "secret_variable", "psc.client_secret", _secret_env),
    Key("psc", "certificat", "psc.cert_file", v.file),
    Key("psc", "cle", "psc.key_file", v.file),
    Key("psc", "ca", "psc.ca_file", v.file),
    Key("psc", "roles", "psc.roles", _psc_roles),
    Key("psc", "secours", "psc.fallback", _psc_fallback),
    Key("psc", "navigateur", "psc.pkce", v.flag),
    Key("psc", "delai_secondes", "psc.timeout_s", _psc_timeout),
)


def known_tables(sections: Sequence[Section[Any]] = ()) -> dict[str, tuple[str, ...]]:
    """Every table a hub.toml may hold, with its keys: the kernel's and the sections'."""
    tables = tables_of(KEYS)
    for section in sections:
        for name, keys in section.tables.items():
            if name in tables:
                raise ValueError(f"table [{name}] declared twice ({section.settings.__name__})")
            tables[name] = keys
    return tables


def load_hub_file(path: Path, sections: Sequence[Section[Any]] = ()) -> HubSettings:
    """The settings of ``path`` over the defaults, the features' ``sections`` read by
    their own parsers; FileError with every problem. A table neither the kernel nor one
    of ``sections`` declares is refused."""
    data, lines = read_toml(path)
    reading = Reading(path, data, lines)
    tables = known_tables(sections)
    _unknown_tables(reading, tables)
    settings = HubSettings(source=path)
    if reading.table("hubsante"):
        # The connector is on once the section is there; both keys are then required.
        settings = replace(settings, hubsante=HubSanteSettings(client_id="", url=""))
        reading.require("hubsante", ("identifiant", "url", "certificat", "cle"),
                        "pour se connecter au Hub Santé")  # fmt: skip
    settings = reading.apply(settings, KEYS)
    psc = reading.table("psc")
    if psc:
        _check_psc(psc, lambda reason: reading.bad(reason, "psc"))
        unusable = _psc_tls_problem(settings.psc.cert_file, settings.psc.key_file,
                                    settings.psc.ca_file)  # fmt: skip
        if unusable:
            reading.bad(unusable, "psc")
    tls = reading.table("tls")
    if ("certificat" in tls) != ("cle" in tls):
        key = "certificat" if "certificat" in tls else "cle"
        reading.bad("[tls] certificat et cle vont ensemble : donnez les deux", "tls", key)
    found: list[object] = []
    for section in sections:
        try:
            value = section.read(reading)
        except FileError as exc:
            reading.problems.extend(exc.problems)
            continue
        if value is not None:
            found.append(value)
    if reading.problems:
        raise FileError(reading.problems)
    return replace(settings, sections=tuple(found))


def _unknown_tables(reading: Reading, tables: dict[str, tuple[str, ...]]) -> None:
    """Each table or key of the file that no one reads: a typo must not pass unseen."""
    lines = reading.lines
    for name, value in reading.data.items():
        if name not in tables:
            where = (
                line_of(lines, name) if not isinstance(value, dict) else _table_line(lines, name)
            )
            reading.problems.append(FileProblem(reading.path, where,
                f"section ou clé inconnue « {name} » (sections connues : "
                f"{', '.join(f'[{t}]' for t in tables)})",
            ))  # fmt: skip
        elif not isinstance(value, dict):
            reading.problems.append(FileProblem(
                reading.path, line_of(lines, name), f"« {name} » doit être une section [{name}]"
            ))  # fmt: skip
        else:
            for key in value:
                if key not in tables[name]:
                    known = ", ".join(tables[name])
                    reading.bad(f"clé inconnue « {key} » dans [{name}] (clés connues : {known})",
                                name, key)  # fmt: skip


def _table_line(lines: list[str], table: str) -> int | None:
    """The line of the ``[table]`` header (no key line can match a NUL)."""
    return line_of(lines, "\0", table)


def _check_psc(psc: dict[str, Any], bad: Callable[[str], None]) -> None:
    """The [psc] keys that only make sense together."""
    for required in ("decouverte", "identifiant_client"):
        if required not in psc:
            bad(f"[psc] {required} manquant (decouverte et identifiant_client sont obligatoires)")
    secrets = [k for k in ("secret_fichier", "secret_variable") if k in psc]
    if len(secrets) > 1:
        bad("[psc] secret_fichier ou secret_variable, pas les deux")
    if ("certificat" in psc) != ("cle" in psc):
        bad("[psc] certificat et cle vont ensemble : donnez les deux")
    if not secrets and "certificat" not in psc:
        bad(
            "[psc] le hub s'authentifie auprès de Pro Santé Connect par un secret "
            "(secret_fichier ou secret_variable) ou un certificat (certificat et cle)"
        )


def _psc_tls_problem(cert: Path | None, key: Path | None, ca: Path | None) -> str:
    """Why the PSC client's certificate, key or authority cannot be used ("" if they can):
    said now, not at the first doctor's login."""
    unusable = v.tls_problem(cert, key, ca)
    return f"[psc] {unusable}" if unusable else ""


def default_path() -> Path | None:
    """The configuration file a hub reads without ``--config``: $SASDESK_CONFIG if set
    (empty: none), else /etc/sasdesk/hub.toml when it exists."""
    named = os.environ.get(ENV_PATH)
    if named is not None:
        return Path(named) if named else None
    return DEFAULT_PATH if DEFAULT_PATH.exists() else None


def describe(error: FileError) -> str:
    """The problems with the file's full path (the room's admin may have several)."""
    return "\n".join(
        f"{p.path}, ligne {p.line} : {p.reason}" if p.line else f"{p.path} : {p.reason}"
        for p in error.problems
    )
