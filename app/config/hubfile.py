"""Read the hub's configuration file (``/etc/sasdesk/hub.toml``) into ``HubSettings``.

The file is edited by hand by the room's IT team: every key is known here, with its
type and range; an unknown table or key, a wrong type or value is reported with the
file, the line and the key, in French, all problems at once, and nothing of the file is
used (the hub does not start half-configured). The call-back tables (SAS opening
hours, reminder delays, PDSA, SAS names) are those of ``resources/callback/reglages.toml``
and are checked by the same parser; the ones a hub.toml leaves out keep that file's
values. Relative paths are taken from the configuration file's folder.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from app.appointments.settings import AppointmentSettings, EditorCertificate, PlatformSettings
from app.callback.settings import SECTIONS as CALLBACK_SECTIONS
from app.callback.settings import SETTINGS_FILE, parse_settings
from app.config.settings import FhirEditorSettings, HubSanteSettings, HubSettings
from app.config.tomlfile import FileError, FileProblem, line_of, read_toml
from app.psc.settings import DEFAULT_ROLES, Fallback, Policy

DEFAULT_PATH = Path("/etc/sasdesk/hub.toml")
#: Names another default file; set to "" for none (tests, a desk's embedded hub).
ENV_PATH = "SASDESK_CONFIG"

SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


class Invalid(ValueError):
    """A value's reason, in French (the loader adds file, line and key)."""


Parse = Callable[[Any, Path], Any]


def _text(value: Any, _base: Path) -> str:
    if not isinstance(value, str):
        raise Invalid("doit être un texte entre guillemets")
    return value.strip()


def _port(value: Any, _base: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise Invalid("doit être un numéro de port, entier de 0 à 65535, sans guillemets")
    return value


def _flag(value: Any, _base: Path) -> bool:
    if not isinstance(value, bool):
        raise Invalid("doit valoir true ou false (sans guillemets)")
    return value


def _path(value: Any, base: Path) -> Path:
    text = _text(value, base)
    if not text:
        raise Invalid("chemin vide")
    return (base / text) if not Path(text).is_absolute() else Path(text)


def _file(value: Any, base: Path) -> Path:
    path = _path(value, base)
    if not path.is_file():
        raise Invalid(f"fichier introuvable : {path}")
    return path


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
    text = _text(value, base)
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
    text = _text(value, base)
    if not text.startswith("fr.") or len(text.split(".")) < 3:
        raise Invalid("identifiant Hub Santé attendu, de la forme fr.health.samu017")
    return text


def _amqps(value: Any, base: Path) -> str:
    text = _text(value, base)
    if not text.startswith("amqps://"):
        raise Invalid("URL amqps://hôte:port/vhost attendue (le Hub Santé n'accepte que TLS)")
    return text


def _platform_url(value: Any, base: Path) -> str:
    text = _text(value, base).rstrip("/")
    if not text.startswith(("https://", "http://127.0.0.1:", "http://localhost:")):
        raise Invalid(
            "URL https://… de la plateforme numérique SAS attendue, p. ex. https://sas.sante.fr"
        )
    return text


def _platform_origin(value: Any, base: Path) -> str:
    text = _text(value, base)
    if not text:
        raise Invalid(
            "l'autorité d'affectation du logiciel, telle qu'enregistrée par la plateforme"
        )
    return text


def _message_status(value: Any, base: Path) -> str:
    text = _text(value, base)
    if text not in ("Actual", "Exercise"):
        raise Invalid("Actual (réel) ou Exercise (plateforme de formation)")
    return text


def _minutes(value: Any, _base: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 1 <= value <= 1440:
        raise Invalid("doit être un nombre de minutes, de 1 à 1440")
    return float(value)


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


def _known_keys(n: int, editor: dict[str, Any], known: tuple[str, ...]) -> None:
    """An editor's table (the n-th) holds only the keys its section knows."""
    unknown = [k for k in editor if k not in known]
    if unknown:
        raise Invalid(
            f"éditeur n° {n} : clé(s) inconnue(s) {', '.join(unknown)} "
            f"(clés connues : {', '.join(known)})"
        )


_EDITOR_KEYS = ("nom", "url", "delai_secondes", "jeton", "ca", "certificat", "cle")


def _editors(value: Any, base: Path) -> tuple[FhirEditorSettings, ...]:
    """[[fhir.editeurs]] tables: nom, url (https://…/fhir), delai_secondes, jeton, ca,
    certificat, cle."""
    if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
        raise Invalid("une table [[fhir.editeurs]] par éditeur d'agenda")
    out = []
    for n, e in enumerate(value, start=1):
        _known_keys(n, e, _EDITOR_KEYS)
        if not e.get("nom") or not str(e.get("url", "")).startswith(("https://", "http://")):
            raise Invalid(f"éditeur n° {n} : nom et url (https://…) obligatoires")
        delay = e.get("delai_secondes", 10)
        if isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 < delay <= 120:
            raise Invalid(f"éditeur n° {n} : delai_secondes de 1 à 120")
        out.append(FhirEditorSettings(
            name=_text(e["nom"], base), base_url=_text(e["url"], base), timeout_s=float(delay),
            token=_text(e.get("jeton", ""), base),
            ca_file=_file(e["ca"], base) if "ca" in e else None,
            cert_file=_file(e["certificat"], base) if "certificat" in e else None,
            key_file=_file(e["cle"], base) if "cle" in e else None,
        ))  # fmt: skip
    if len({e.name for e in out}) != len(out):
        raise Invalid("deux éditeurs portent le même nom")
    return tuple(out)


def _psc_url(value: Any, base: Path) -> str:
    text = _text(value, base)
    if not text.startswith(("https://", "http://127.0.0.1:", "http://localhost:")):
        raise Invalid(
            "URL https://… du document de découverte de Pro Santé Connect attendue, p. ex. "
            "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet/.well-known/"
            "wallet-openid-configuration"
        )
    return text


def _secret_file(value: Any, base: Path) -> str:
    """The client secret, read from a file only its owner may read."""
    path = _file(value, base)
    if path.stat().st_mode & 0o077:
        raise Invalid(f"{path} est lisible par d'autres comptes : chmod 600 {path}")
    secret = path.read_text(encoding="utf-8").strip()
    if not secret:
        raise Invalid(f"{path} est vide")
    return secret


def _secret_env(value: Any, base: Path) -> str:
    name = _text(value, base)
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
    text = _text(value, base)
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
    profile = _text(value.get("profil", "CU23"), base)
    fields = {k: v for k, v in value.items() if k != "profil"}
    (server,) = _editors([{"nom": "ROR", "delai_secondes": 60, **fields}], base)
    headers = (
        ("Ror-Profil-Utilisateur-Code", profile),
        ("Ror-Profil-Utilisateur-System", ROR_PROFILE_SYSTEM),
        ("Ror-Role-Metier-Code", ROR_ROLE[0]),
        ("Ror-Role-Metier-System", ROR_ROLE[1]),
    )
    return replace(server, headers=headers)


_APPOINTMENT_EDITOR_KEYS = ("nom", "cn", "ou")


def _appointment_editors(value: Any, base: Path) -> tuple[EditorCertificate, ...]:
    """[[rendez_vous.editeurs]] tables: nom, cn, ou (the editor's client certificate)."""
    if not isinstance(value, list) or not value or not all(isinstance(e, dict) for e in value):
        raise Invalid("au moins une table [[rendez_vous.editeurs]] (nom, cn, ou) par éditeur")
    out = []
    for n, e in enumerate(value, start=1):
        _known_keys(n, e, _APPOINTMENT_EDITOR_KEYS)
        fields = [_text(e.get(k, ""), base) for k in _APPOINTMENT_EDITOR_KEYS]
        if not all(fields):
            raise Invalid(
                f"éditeur n° {n} : nom, cn et ou obligatoires (le CN et l'OU de son "
                "certificat client IGC Santé)"
            )
        out.append(EditorCertificate(*fields))
    if len({e.name for e in out}) != len(out):
        raise Invalid("deux éditeurs portent le même nom")
    if len({(e.common_name, e.unit) for e in out}) != len(out):
        raise Invalid("deux éditeurs ont le même certificat (cn et ou)")
    return tuple(out)


def _base_path(value: Any, base: Path) -> str:
    text = _text(value, base).rstrip("/")
    if not text.startswith("/") or any(c in text for c in "?#{} "):
        raise Invalid('chemin d\'URL attendu, commençant par /, p. ex. "/fhir"')
    return text


@dataclass(frozen=True)
class Key:
    table: str
    name: str
    #: Dotted attribute of HubSettings it sets, e.g. "tls.cert".
    attr: str
    parse: Parse


#: Every key a hub.toml may hold (the call-back tables apart). Add a line per new setting.
KEYS: tuple[Key, ...] = (
    Key("base", "url", "db_url", _db_url),
    Key("ecoute", "adresse", "host", _text),
    Key("ecoute", "port", "port", _port),
    Key("ecoute", "compression", "compression", _flag),
    Key("tls", "certificat", "tls.cert", _file),
    Key("tls", "cle", "tls.key", _file),
    Key("tls", "sans_tls", "tls.insecure", _flag),
    Key("enregistrements", "dossier", "recordings_store", _path),
    Key("conservation", "dossiers_jours", "retention.dossiers_days", _days),
    Key("conservation", "enregistrements_jours", "retention.recordings_days", _days),
    Key("conservation", "audit_jours", "retention.audit_days", _days),
    Key("territoire", "nom", "territory.name", _text),
    Key("territoire", "fichier", "territory.file", _file),
    Key("objectifs", "decroche", "targets.answered", _share),
    Key("objectifs", "plafond_snp_semaine", "targets.weekly_snp_cap", _cap),
    Key("sessions", "inactivite_minutes", "sessions.idle_minutes", _idle_minutes),
    Key("sessions", "duree_max_heures", "sessions.max_shift_hours", _shift_hours),
    Key("sessions", "essais_avant_delai", "sessions.throttle_after", _attempts),
    Key("sessions", "delai_max_secondes", "sessions.max_delay_seconds", _delay_seconds),
    Key("sessions", "essais_avant_verrou", "sessions.lock_after", _attempts),
    Key("sessions", "verrou_minutes", "sessions.lock_minutes", _minutes),
    Key("sessions", "adresse_essais_avant_delai", "sessions.address_throttle_after", _attempts),
    Key("sessions", "adresse_essais_avant_verrou", "sessions.address_lock_after", _attempts),
    Key("anteriorites", "jours", "history.days", _days),
    Key("anteriorites", "appelant_frequent", "history.frequent_after", _dossier_count),
    Key("fhir", "editeurs", "fhir.editors", _editors),
    Key("fhir", "rafraichir_minutes", "fhir.refresh_minutes", _minutes),
    Key("fhir", "fenetre_heures", "fhir.window_hours", _hours),
    Key("fhir", "ror", "fhir.ror", _ror),
    Key("fhir", "ror_rafraichir_minutes", "fhir.ror_refresh_minutes", _minutes),
    Key("hubsante", "identifiant", "hubsante.client_id", _client_id),
    Key("hubsante", "url", "hubsante.url", _amqps),
    Key("hubsante", "ca", "hubsante.ca_file", _file),
    Key("hubsante", "certificat", "hubsante.cert_file", _file),
    Key("hubsante", "cle", "hubsante.key_file", _file),
    Key("hubsante", "destinataire", "hubsante.default_recipient", _client_id),
    Key("hubsante", "statut", "hubsante.status", _message_status),
    Key("hubsante", "plateforme_sas", "hubsante.platform_id", _client_id),
    Key("rendez_vous", "adresse", "appointments.host", _text),
    Key("rendez_vous", "port", "appointments.port", _port),
    Key("rendez_vous", "chemin", "appointments.base", _base_path),
    Key("rendez_vous", "certificat", "appointments.cert", _file),
    Key("rendez_vous", "cle", "appointments.key", _file),
    Key("rendez_vous", "ca_clients", "appointments.client_ca", _file),
    Key("rendez_vous", "editeurs", "appointments.editors", _appointment_editors),
    Key("rendez_vous", "attente_agenda_minutes", "appointments.pending_minutes", _minutes),
    Key("plateforme_sas", "url", "platform.url", _platform_url),
    Key("plateforme_sas", "origine", "platform.origin", _platform_origin),
    Key("psc", "decouverte", "psc.discovery_url", _psc_url),
    Key("psc", "identifiant_client", "psc.client_id", _text),
    Key("psc", "secret_fichier", "psc.client_secret", _secret_file),
    Key("psc", "secret_variable", "psc.client_secret", _secret_env),
    Key("psc", "certificat", "psc.cert_file", _file),
    Key("psc", "cle", "psc.key_file", _file),
    Key("psc", "ca", "psc.ca_file", _file),
    Key("psc", "roles", "psc.roles", _psc_roles),
    Key("psc", "secours", "psc.fallback", _psc_fallback),
    Key("psc", "navigateur", "psc.pkce", _flag),
    Key("psc", "delai_secondes", "psc.timeout_s", _psc_timeout),
)


def known_tables() -> dict[str, tuple[str, ...]]:
    tables: dict[str, list[str]] = {}
    for key in KEYS:
        tables.setdefault(key.table, []).append(key.name)
    return {**{t: tuple(k) for t, k in tables.items()}, **CALLBACK_SECTIONS}


def set_attr(settings: Any, dotted: str, value: Any) -> Any:
    """A copy of the frozen ``settings`` with ``dotted`` (e.g. "tls.cert") set."""
    head, _, rest = dotted.partition(".")
    if not rest:
        return replace(settings, **{head: value})
    return replace(settings, **{head: set_attr(getattr(settings, head), rest, value)})


def _table_line(lines: list[str], table: str) -> int | None:
    """The line of the ``[table]`` header (no key line can match a NUL)."""
    return line_of(lines, "\0", table)


def load_hub_file(path: Path) -> HubSettings:
    """The settings of ``path`` over the defaults; FileError with every problem."""
    data, lines = read_toml(path)
    problems: list[FileProblem] = []
    tables = known_tables()

    def bad(line: int | None, reason: str) -> None:
        problems.append(FileProblem(path, line, reason))

    for name, value in data.items():
        if name not in tables:
            where = (
                line_of(lines, name) if not isinstance(value, dict) else _table_line(lines, name)
            )
            bad(
                where,
                f"section ou clé inconnue « {name} » (sections connues : "
                f"{', '.join(f'[{t}]' for t in tables)})",
            )
        elif not isinstance(value, dict):
            bad(line_of(lines, name), f"« {name} » doit être une section [{name}]")
        else:
            for key in value:
                if key not in tables[name]:
                    bad(
                        line_of(lines, key, name),
                        f"clé inconnue « {key} » dans [{name}] "
                        f"(clés connues : {', '.join(tables[name])})",
                    )
    settings = HubSettings(source=path)
    hubsante: dict[str, Any] = data["hubsante"] if isinstance(data.get("hubsante"), dict) else {}
    if hubsante:
        # The connector is on once the section is there; both keys are then required.
        settings = replace(settings, hubsante=HubSanteSettings(client_id="", url=""))
        required = ("identifiant", "url", "certificat", "cle")
        for reason in _missing("hubsante", hubsante, required, "pour se connecter au Hub Santé"):
            bad(_table_line(lines, "hubsante"), reason)
    appointments: dict[str, Any] = (
        data["rendez_vous"] if isinstance(data.get("rendez_vous"), dict) else {}
    )
    if appointments:
        # The endpoint is on once the section is there; what it cannot work without is
        # then required.
        unset = AppointmentSettings(Path(), Path(), Path(), ())
        settings = replace(settings, appointments=unset)
        required = ("certificat", "cle", "ca_clients", "editeurs")
        purpose = "pour recevoir les rendez-vous des éditeurs"
        for reason in _missing("rendez_vous", appointments, required, purpose):
            bad(_table_line(lines, "rendez_vous"), reason)
    platform: dict[str, Any] = (
        data["plateforme_sas"] if isinstance(data.get("plateforme_sas"), dict) else {}
    )
    if platform:
        settings = replace(settings, platform=PlatformSettings(url="", origin=""))
        purpose = "pour ouvrir la recherche de la plateforme SAS depuis un dossier"
        for reason in _missing("plateforme_sas", platform, ("url", "origine"), purpose):
            bad(_table_line(lines, "plateforme_sas"), reason)
    base = path.parent
    for key in KEYS:
        table = data.get(key.table)
        if not isinstance(table, dict) or key.name not in table:
            continue
        try:
            settings = set_attr(settings, key.attr, key.parse(table[key.name], base))
        except Invalid as exc:
            bad(line_of(lines, key.name, key.table), f"[{key.table}] {key.name} : {exc}")
    psc: dict[str, Any] = data["psc"] if isinstance(data.get("psc"), dict) else {}
    if psc:
        _check_psc(psc, lambda reason: bad(_table_line(lines, "psc"), reason))
        unusable = _psc_tls_problem(settings.psc.cert_file, settings.psc.key_file,
                                    settings.psc.ca_file)  # fmt: skip
        if unusable:
            bad(_table_line(lines, "psc"), unusable)
    if appointments and not problems and settings.appointments is not None:
        a = settings.appointments
        unusable = _tls_problem(a.cert, a.key, a.client_ca)
        if unusable:
            bad(_table_line(lines, "rendez_vous"), f"[rendez_vous] {unusable}")
    tls: dict[str, Any] = data["tls"] if isinstance(data.get("tls"), dict) else {}
    if ("certificat" in tls) != ("cle" in tls):
        bad(
            line_of(lines, "certificat" if "certificat" in tls else "cle", "tls"),
            "[tls] certificat et cle vont ensemble : donnez les deux",
        )
    if any(isinstance(data.get(t), dict) for t in CALLBACK_SECTIONS):
        defaults, _ = read_toml(SETTINGS_FILE)
        merged = {t: {**defaults.get(t, {}), **(data.get(t) or {})} for t in CALLBACK_SECTIONS}
        try:
            settings = replace(settings, callback=parse_settings(merged, lines, path))
        except FileError as exc:
            problems.extend(exc.problems)
    if problems:
        raise FileError(problems)
    return settings


def _missing(
    name: str, table: dict[str, Any], required: tuple[str, ...], purpose: str
) -> list[str]:
    """Why a section that is on cannot work: each required key it lacks."""
    listed = f"{', '.join(required[:-1])} et {required[-1]}"
    return [
        f"[{name}] {key} manquant ({listed} sont obligatoires {purpose})"
        for key in required
        if key not in table
    ]


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
    unusable = _tls_problem(cert, key, ca)
    return f"[psc] {unusable}" if unusable else ""


def _tls_problem(cert: Path | None, key: Path | None, ca: Path | None) -> str:
    """Why a certificate, its key or an authority cannot be used ("" if they can)."""
    import ssl

    try:
        if ca is not None:
            ssl.create_default_context(cafile=str(ca))
        if cert is not None and key is not None:
            ssl.create_default_context().load_cert_chain(str(cert), str(key))
    except (ssl.SSLError, OSError, ValueError) as exc:
        return f"certificat, clé ou autorité inutilisable ({exc})"
    return ""


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
