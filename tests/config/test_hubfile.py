"""hub.toml read into HubSettings: every key, defaults, and a French error naming the
file, the line and the key for each mistake, all at once, nothing half-applied."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from app.appointments.settings import (
    ENDPOINT_KEYS,
    PLATFORM_KEYS,
    AppointmentSettings,
    PlatformSettings,
)
from app.callback.settings import Settings as CallbackSettings
from app.callback.settings import load_settings
from app.cli.sections import SECTIONS, load_hub_config
from app.config.hubfile import KEYS, describe, known_tables, load_hub_file
from app.config.sections import Reading, Section
from app.config.settings import HubSanteSettings, HubSettings
from app.config.tomlfile import FileError
from app.hub.server import Hub

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "resources" / "hub.toml.example"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hub.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_loads_and_says_what_the_comments_say() -> None:
    s = load_hub_config(EXAMPLE)
    assert s.db_url == "sqlite:////var/lib/sasdesk/sasdesk.sqlite3"
    assert (s.host, s.port) == ("127.0.0.1", 8765)
    assert s.recordings_store == Path("/var/lib/sasdesk/enregistrements")
    assert s.targets.answered == 0.99 and s.targets.weekly_snp_cap == 20
    assert s.territory.name == "SAS 17 — Charente-Maritime"
    assert s.section(CallbackSettings) == load_settings()  # same as the room file it repeats
    assert s.source == EXAMPLE


def test_every_key_of_the_loader_is_documented_in_the_example() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    for table, keys in known_tables(SECTIONS).items():
        assert f"[{table}]" in text
        for key in keys:
            assert f"{key} =" in text, f"[{table}] {key} absent de hub.toml.example"


def test_values_relative_paths_and_a_partial_callback_table(tmp_path: Path) -> None:
    (tmp_path / "tls").mkdir()
    (tmp_path / "tls" / "hub.crt").write_text("x")
    (tmp_path / "tls" / "hub.key").write_text("x")
    (tmp_path / "territoire.json").write_text('{"communes": []}')
    path = write(
        tmp_path,
        """
[base]
url = "postgresql://sasdesk@db/sasdesk?sslmode=verify-full"
[ecoute]
adresse = "0.0.0.0"
port = 9443
[tls]
certificat = "tls/hub.crt"
cle = "tls/hub.key"
[enregistrements]
dossier = "rec"
[conservation]
enregistrements_jours = 1825
[territoire]
fichier = "territoire.json"
[objectifs]
plafond_snp_semaine = 12
[horaires_sas]
samedi = ""
[delais]
rappel_sans_reponse_minutes = 30
""",
    )
    s = load_hub_config(path)
    assert s.db_url.endswith("sslmode=verify-full") and (s.host, s.port) == ("0.0.0.0", 9443)
    assert s.tls.cert == tmp_path / "tls" / "hub.crt" and s.tls.enabled
    assert s.recordings_store == tmp_path / "rec"
    assert s.retention.recordings_days == 1825 and s.retention.dossiers_days is None
    assert s.territory.file == tmp_path / "territoire.json"
    assert s.targets.weekly_snp_cap == 12 and s.targets.answered == 0.99
    room = s.section(CallbackSettings)
    assert room is not None and room.hours[5] is None  # Saturday closed
    assert room.hours[0] == load_settings().hours[0]  # Monday from reglages.toml
    assert room.retry_delay.total_seconds() == 30 * 60


def test_an_empty_file_is_the_defaults(tmp_path: Path) -> None:
    assert load_hub_config(write(tmp_path, "# rien\n")) == HubSettings(source=tmp_path / "hub.toml")


def said(found: list[tuple[int | None, str]], line: int, words: str) -> bool:
    return any(at == line and words in reason for at, reason in found)


def problems_of(path: Path) -> list[tuple[int | None, str]]:
    with pytest.raises(FileError) as caught:
        load_hub_config(path)
    return [(p.line, p.reason) for p in caught.value.problems]


def test_unknown_sections_and_keys_are_named_with_their_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """[base]
url = "sqlite:///x.db"
prot = 8765

[ecouter]
port = 1
[ecoute]
port = 8766
""",
    )
    found = problems_of(path)
    assert found[0][0] == 3 and "clé inconnue « prot » dans [base]" in found[0][1]
    assert found[1][0] == 5 and "section ou clé inconnue « ecouter »" in found[1][1]
    assert len(found) == 2
    with pytest.raises(FileError) as caught:
        load_hub_config(path)
    assert f"{path}, ligne 3 :" in describe(caught.value)  # full path: admins have several


def test_wrong_values_each_with_file_line_and_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """[base]
url = "mysql://x/y"
[ecoute]
port = "8765"
[tls]
certificat = "absent.crt"
[objectifs]
decroche = 99
[horaires_sas]
lundi = "8h-20h"
""",
    )
    found = problems_of(path)
    assert said(found, 2, "[base] url : base « mysql » non prise en charge")
    assert said(found, 4, "[ecoute] port : doit être un numéro de port")
    assert said(found, 6, "[tls] certificat : fichier introuvable")
    assert said(found, 6, "certificat et cle vont ensemble")
    assert said(found, 8, "[objectifs] decroche : doit être une part entre 0 et 1")
    assert said(found, 10, "horaire du lundi invalide")
    assert len(found) == 6


def test_a_key_without_its_pair_and_a_bad_sslmode(tmp_path: Path) -> None:
    (tmp_path / "hub.key").write_text("x")
    path = write(
        tmp_path,
        """[base]
url = "postgresql://h/db?sslmode=maybe"
[tls]
cle = "hub.key"
""",
    )
    found = problems_of(path)
    assert said(found, 2, "sslmode « maybe » inconnu")
    assert said(found, 4, "certificat et cle vont ensemble")


def test_a_syntax_error_and_a_non_utf8_file(tmp_path: Path) -> None:
    assert problems_of(write(tmp_path, '[base]\nurl = "sqlite:///x\n'))[0][0] == 2
    path = tmp_path / "latin1.toml"
    path.write_bytes('[territoire]\nnom = "Sète"\n'.encode("latin-1"))
    assert problems_of(path) == [(2, "le fichier doit être enregistré en UTF-8")]


def test_every_key_sets_a_field_that_exists() -> None:
    # [hubsante] fills an optional part (None until the file has it); [rendez_vous] and
    # [plateforme_sas] are the appointment feature's own settings.
    for defaults, keys in (
        (HubSettings(hubsante=HubSanteSettings(client_id="", url="")), KEYS),
        (AppointmentSettings(Path(), Path(), Path(), ()), ENDPOINT_KEYS),
        (PlatformSettings("", ""), PLATFORM_KEYS),
    ):
        for key in keys:
            obj: object = defaults
            for part in key.attr.split("."):
                assert hasattr(obj, part), key
                obj = getattr(obj, part)


def test_fhir_editors_and_hub_sante_sections(tmp_path: Path) -> None:
    for name in ("ca.pem", "sas.crt", "sas.key"):
        (tmp_path / name).write_text("x")
    path = write(
        tmp_path,
        """
[fhir]
rafraichir_minutes = 5
[[fhir.editeurs]]
nom = "agenda-a"
url = "https://fhir.agenda-a.example/fhir"
delai_secondes = 4
ca = "ca.pem"
[[fhir.editeurs]]
nom = "agenda-b"
url = "https://b.example/fhir"
[hubsante]
identifiant = "fr.health.sas017"
url = "amqps://hub.example:5671/vhost?auth=EXTERNAL"
ca = "ca.pem"
certificat = "sas.crt"
cle = "sas.key"
destinataire = "fr.health.samu017"
statut = "Exercise"
plateforme_sas = "fr.health.test.ptfsas"
""",
    )
    s = load_hub_config(path)
    assert s.fhir.refresh_minutes == 5 and s.fhir.window_hours == 72
    assert [(e.name, e.timeout_s, e.ca_file) for e in s.fhir.editors] == [
        ("agenda-a", 4.0, tmp_path / "ca.pem"),
        ("agenda-b", 10.0, None),
    ]
    hs = s.hubsante
    assert hs is not None and (hs.client_id, hs.default_recipient, hs.status) == (
        "fr.health.sas017",
        "fr.health.samu017",
        "Exercise",
    )
    assert hs.cert_file == tmp_path / "sas.crt" and hs.url.startswith("amqps://")
    assert hs.platform_id == "fr.health.test.ptfsas"  # RS-SAS-RDV's only sender
    assert HubSettings().hubsante is None  # no section: no connector
    bad = write(
        tmp_path,
        """
[hubsante]
identifiant = "samu17"
url = "amqp://hub.example"
[[fhir.editeurs]]
nom = "x"
url = "ftp://x"
""",
    )
    with pytest.raises(FileError) as refused:
        load_hub_config(bad)
    text = describe(refused.value)
    assert "[hubsante] certificat manquant" in text
    assert "[hubsante] identifiant : identifiant Hub Santé attendu" in text
    assert "[hubsante] url : URL amqps://" in text
    assert "éditeur n° 1 : nom et url (https://…) obligatoires" in text


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://sasdesk@/sasdesk?host=/var/run/postgresql",  # deploy.md: local, peer
        "postgresql://sasdesk@srv-regul.samu17.local/sasdesk?sslmode=verify-full"
        "&sslrootcert=/etc/sasdesk/pg-ca.crt",  # deploy.md: another machine
    ],
)
def test_the_database_urls_of_the_deploy_guide_are_accepted(tmp_path: Path, url: str) -> None:
    assert load_hub_config(write(tmp_path, f'[base]\nurl = "{url}"\n')).db_url == url


def test_sessions_table_sets_idle_shift_and_throttle_and_reaches_the_hub(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        """[sessions]
inactivite_minutes = 20
duree_max_heures = 12.5
essais_avant_delai = 2
delai_max_secondes = 10
essais_avant_verrou = 6
verrou_minutes = 30
adresse_essais_avant_delai = 20
adresse_essais_avant_verrou = 100
""",
    )
    s = load_hub_config(path).sessions
    assert (s.idle_minutes, s.max_shift_hours) == (20, 12.5)
    assert (s.throttle_after, s.max_delay_seconds, s.lock_after, s.lock_minutes) == (2, 10, 6, 30)
    assert (s.address_throttle_after, s.address_lock_after) == (20, 100)
    hub = Hub("sqlite:///" + str(tmp_path / "unused.sqlite3"), settings=load_hub_config(path))
    assert hub.sessions.idle == timedelta(minutes=20)
    assert hub.sessions.shift == timedelta(hours=12.5)
    assert hub.sessions.guard.settings.lock_after == 6
    never = write(tmp_path, "[sessions]\ninactivite_minutes = 0\n")
    assert Hub("sqlite://", settings=load_hub_config(never)).sessions.idle is None
    bad = write(
        tmp_path,
        "[sessions]\ninactivite_minutes = -5\nduree_max_heures = 48\nessais_avant_verrou = 0\n",
    )
    found = problems_of(bad)
    assert said(found, 2, "[sessions] inactivite_minutes : doit être un nombre de minutes, de 0")
    assert said(found, 3, "[sessions] duree_max_heures : doit être un nombre d'heures, de 1 à 24")
    assert said(found, 4, "[sessions] essais_avant_verrou : doit être un nombre entier d'essais")
    assert len(found) == 3


def test_psc_section_reads_its_keys_and_refuses_an_inline_or_readable_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.psc.settings import Fallback, Policy

    secret = tmp_path / "psc-secret"
    secret.write_text("s3cret\n")
    secret.chmod(0o644)
    url = "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet/.well-known/" + (
        "wallet-openid-configuration"
    )
    text = (
        f'[psc]\ndecouverte = "{url}"\nidentifiant_client = "sasdesk-samu017"\n'
        'secret_fichier = "psc-secret"\nsecours = "aucun"\nnavigateur = true\n'
        'roles = { MRL = "obligatoire", ARM_N1 = "possible" }\n'
    )
    with pytest.raises(FileError) as readable:
        load_hub_config(write(tmp_path, text))
    assert "chmod 600" in describe(readable.value)
    secret.chmod(0o600)
    s = load_hub_config(write(tmp_path, text)).psc
    assert (s.discovery_url, s.client_id, s.client_secret) == (url, "sasdesk-samu017", "s3cret")
    assert s.fallback == Fallback.NONE and s.pkce is True
    assert s.policy("MRL") == Policy.MUST and s.policy("ARM_N1") == Policy.MAY
    assert s.policy("MEDECIN_AMU") == Policy.MAY  # a role left out keeps its default
    assert s.policy("OSNP") == Policy.PASSWORD
    monkeypatch.setenv("PSC_SECRET_TEST", "from-env")
    env = text.replace('secret_fichier = "psc-secret"', 'secret_variable = "PSC_SECRET_TEST"')
    assert load_hub_config(write(tmp_path, env)).psc.client_secret == "from-env"
    wrong = (
        '[psc]\ndecouverte = "http://psc.example/x"\n'
        'roles = { MRL = "toujours", CHEF = "possible" }\n'
    )
    with pytest.raises(FileError) as refused:
        load_hub_config(write(tmp_path, wrong))
    said = describe(refused.value)
    assert "URL https://" in said and "identifiant_client manquant" in said
    assert "« toujours » inconnu" in said or "rôle « CHEF » inconnu" in said
    assert "un secret" in said
    (tmp_path / "psc.crt").write_text("pas un certificat")
    (tmp_path / "psc.key").write_text("pas une clé")
    mtls = (
        f'[psc]\ndecouverte = "{url}"\nidentifiant_client = "c"\n'
        'certificat = "psc.crt"\ncle = "psc.key"\n'
    )
    with pytest.raises(FileError) as unusable:
        load_hub_config(write(tmp_path, mtls))
    assert "inutilisable" in describe(unusable.value)


def test_the_ror_server_with_its_consumer_headers(tmp_path: Path) -> None:
    (tmp_path / "igc.pem").write_text("x")
    path = write(
        tmp_path,
        """
[fhir]
ror_rafraichir_minutes = 720
[fhir.ror]
url = "https://api-fhir.ror.example/ws-diffusion-fhir"
profil = "CU42"
ca = "igc.pem"
""",
    )
    s = load_hub_config(path)
    ror = s.fhir.ror
    assert ror is not None and s.fhir.ror_refresh_minutes == 720 and not s.fhir.editors
    assert (ror.name, ror.base_url, ror.timeout_s, ror.ca_file) == (
        "ROR", "https://api-fhir.ror.example/ws-diffusion-fhir", 60.0, tmp_path / "igc.pem",
    )  # fmt: skip
    assert dict(ror.headers) == {
        "Ror-Profil-Utilisateur-Code": "CU42",
        "Ror-Profil-Utilisateur-System": "1.2.250.1.213.1.6.1.66",
        "Ror-Role-Metier-Code": "AUTOMATE",
        "Ror-Role-Metier-System": "1.2.250.1.213.1.1.4.6",
    }
    bad = write(tmp_path, '[fhir.ror]\nurl = "ftp://x"\nzone = "17"\n')
    [(_, reason)] = problems_of(bad)
    assert "clé(s) inconnue(s) zone" in reason


def test_a_feature_table_is_known_only_through_its_section(tmp_path: Path) -> None:
    """The loader alone knows the kernel's tables: a feature's table is refused as
    unknown unless its section is handed over, then read by the feature's parser."""
    path = write(tmp_path, '[plateforme_sas]\nurl = "https://sas.sante.fr"\norigine = "LRM"\n')
    with pytest.raises(FileError, match="section ou clé inconnue « plateforme_sas »"):
        load_hub_file(path)
    s = load_hub_config(path)
    assert s.section(PlatformSettings) == PlatformSettings("https://sas.sante.fr", "LRM")
    assert s.section(AppointmentSettings) is None and s.section(CallbackSettings) is None


def test_a_table_two_sections_declare_is_a_programming_error(tmp_path: Path) -> None:
    twice: Section[PlatformSettings] = Section(
        PlatformSettings, {"ecoute": ("url",)}, lambda reading: None
    )
    with pytest.raises(ValueError, match=r"table \[ecoute\] declared twice"):
        load_hub_file(write(tmp_path, "# rien\n"), [twice])


def test_a_section_bad_value_names_its_table_and_line(tmp_path: Path) -> None:
    """A feature's parser reports through the same reading: file, line, [table] key."""
    seen: list[Reading] = []

    def read(reading: Reading) -> PlatformSettings | None:
        seen.append(reading)
        return None

    spy: Section[PlatformSettings] = Section(PlatformSettings, {"espion": ("x",)}, read)
    path = write(tmp_path, '[espion]\nx = 1\n[plateforme_sas]\nurl = "ftp://x"\n')
    with pytest.raises(FileError) as caught:
        load_hub_file(path, [*SECTIONS, spy])
    found = [(p.line, p.reason) for p in caught.value.problems]
    assert (4, "[plateforme_sas] url : URL https://… de la plateforme numérique SAS attendue, "
            "p. ex. https://sas.sante.fr") in found  # fmt: skip
    assert said(found, 3, "[plateforme_sas] origine manquant")
    assert seen and seen[0].table("espion") == {"x": 1}
