"""hub.toml ``[rendez_vous]``: the appointment endpoint is off without it, on with it,
and what it cannot work without (certificate, client authority, editors) is required
and checked at load, with the file, the line and the key."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text as text_sql

from app.appointments.settings import AppointmentSettings, EditorCertificate
from app.cli.sections import SECTIONS, load_hub_config
from app.config.check import check
from app.config.tomlfile import FileError
from app.db.engine import make_engine
from tests.appointments.test_fhir import BOOKED
from tests.certs import Authority, client_certificate
from tests.config.test_hub_check import ROOT, checks, config, free_port, sasdesk, wait_port


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hub.toml"
    path.write_text(text, encoding="utf-8")
    return path


def section(
    tmp_path: Path,
    *,
    ca: str = "igc.pem",
    extra: str = "",
    authority: Authority | None = None,
    where: tuple[str, int] = ("0.0.0.0", 9443),
) -> str:
    authority = authority or Authority(tmp_path / "igc")
    server = authority.issue("rdv")
    (tmp_path / "igc.pem").write_bytes(authority.file.read_bytes())
    return f"""[rendez_vous]
adresse = "{where[0]}"
port = {where[1]}
chemin = "/sas/fhir/"
certificat = "{server.cert}"
cle = "{server.key}"
ca_clients = "{ca}"
{extra}
[[rendez_vous.editeurs]]
nom = "agenda-a"
cn = "rdv.agenda-a.test"
ou = "Editeur A"

[[rendez_vous.editeurs]]
nom = "agenda-b"
cn = "rdv.agenda-b.test"
ou = "Editeur B"
"""


def problems(path: Path) -> list[tuple[int | None, str]]:
    with pytest.raises(FileError) as caught:
        load_hub_config(path)
    return [(p.line, p.reason) for p in caught.value.problems]


def test_off_without_the_section(tmp_path: Path) -> None:
    assert load_hub_config(write(tmp_path, "[base]\n")).section(AppointmentSettings) is None


def test_the_section_turns_the_endpoint_on(tmp_path: Path) -> None:
    s = load_hub_config(write(tmp_path, section(tmp_path)))
    a = s.section(AppointmentSettings)
    assert a is not None
    assert (a.host, a.port, a.base) == ("0.0.0.0", 9443, "/sas/fhir")
    assert a.client_ca == tmp_path / "igc.pem"  # relative to the file's folder
    assert a.editors == (
        EditorCertificate("agenda-a", "rdv.agenda-a.test", "Editeur A"),
        EditorCertificate("agenda-b", "rdv.agenda-b.test", "Editeur B"),
    )
    assert a.url == "https://0.0.0.0:9443/sas/fhir"


def test_a_missing_client_authority_is_named_with_its_line(tmp_path: Path) -> None:
    found = problems(write(tmp_path, section(tmp_path, ca="absente.pem")))
    assert found == [
        (7, f"[rendez_vous] ca_clients : fichier introuvable : {tmp_path}/absente.pem")
    ]


def test_a_client_authority_that_is_no_certificate_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pas-une-ac.pem").write_text("ceci n'est pas un certificat\n")
    found = problems(write(tmp_path, section(tmp_path, ca="pas-une-ac.pem")))
    assert len(found) == 1
    assert (
        found[0][0] == 1
        and "[rendez_vous] certificat, clé ou autorité inutilisable" in (found[0][1])
    )


def test_required_keys_and_bad_editors_are_all_said_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """[rendez_vous]
port = 8443
chemin = "fhir"
[[rendez_vous.editeurs]]
nom = "agenda-a"
cn = "rdv.agenda-a.test"
unite = "Editeur A"
""",
    )
    reasons = [reason for _line, reason in problems(path)]
    for key in ("certificat", "cle", "ca_clients"):
        assert any(f"[rendez_vous] {key} manquant" in r for r in reasons), reasons
    assert any("[rendez_vous] chemin : chemin d'URL attendu" in r for r in reasons)
    assert any("éditeur n° 1 : clé(s) inconnue(s) unite" in r for r in reasons)


def test_two_editors_with_one_certificate_are_refused(tmp_path: Path) -> None:
    text = section(tmp_path).replace("rdv.agenda-b.test", "rdv.agenda-a.test")
    text = text.replace('ou = "Editeur B"', 'ou = "Editeur A"')
    reasons = [reason for _line, reason in problems(write(tmp_path, text))]
    assert any("deux éditeurs ont le même certificat" in r for r in reasons), reasons


def test_hub_check_reports_the_endpoint_and_refuses_a_missing_authority(tmp_path: Path) -> None:
    good = config(tmp_path, extra=section(tmp_path))
    out = sasdesk("hub", "check", "--config", str(good), "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    found = checks(out)
    assert found["rendez-vous"]["ok"] is True
    detail = str(found["rendez-vous"]["detail"])
    assert "https://0.0.0.0:9443/sas/fhir/Appointment" in detail
    assert "agenda-b (CN=rdv.agenda-b.test, OU=Editeur B)" in detail
    assert "CN=CA de test sasdesk" in detail
    assert found["certificat rendez-vous"]["ok"] is True
    bad = config(tmp_path, extra=section(tmp_path, ca="absente.pem"))
    out = sasdesk("hub", "check", "--config", str(bad))
    assert out.returncode == 2
    assert f"[rendez_vous] ca_clients : fichier introuvable : {tmp_path}/absente.pem" in out.stderr
    assert "le hub ne démarre pas" in out.stderr and "Traceback" not in out.stderr


def test_an_expired_client_authority_fails_the_check(tmp_path: Path) -> None:
    old = Authority(tmp_path / "old").issue("ancienne-ac", expired=True)
    (tmp_path / "ancienne.pem").write_bytes(old.cert.read_bytes())
    found = {c.name: c for c in check(load_hub_config(config(tmp_path, extra=section(
        tmp_path, ca="ancienne.pem"))), SECTIONS)}  # fmt: skip
    assert found["rendez-vous"].ok is False
    assert "expirée" in found["rendez-vous"].detail
    assert "aucun éditeur ne pourra se connecter" in found["rendez-vous"].detail


def test_a_hub_started_from_its_file_answers_the_editors(tmp_path: Path) -> None:
    """``sasdesk hub --config``: the section reaches the endpoint, which reaches the
    database (an effecteur this empty room does not know: 422, journalled)."""
    authority = Authority(tmp_path / "igc")
    hub_port, port = free_port(), free_port()
    text = section(tmp_path, authority=authority, where=("127.0.0.1", port))
    path = config(tmp_path, port=hub_port, extra=text)
    editor = client_certificate(authority, "editor", cn="rdv.agenda-a.test", ou="Editeur A")
    ctx = ssl.create_default_context(cafile=str(authority.file))
    ctx.load_cert_chain(str(editor.cert), str(editor.key))
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "hub", "--config", str(path)],
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_port(port, proc)
        with httpx.Client(verify=ctx, timeout=10) as http:
            answer = http.post(
                f"https://127.0.0.1:{port}/sas/fhir/Appointment", content=json.dumps(BOOKED)
            )
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=30)
    assert answer.status_code == 422, answer.text
    assert "inconnu de l'annuaire" in answer.json()["issue"][0]["diagnostics"]
    assert f"appointment endpoint listening on https://127.0.0.1:{port}/sas/fhir" in err
    with make_engine(f"sqlite:///{tmp_path / 'hub.sqlite3'}").connect() as conn:
        rows = conn.execute(text_sql("SELECT sender, answer FROM appointment_messages")).all()
    assert [tuple(r) for r in rows] == [("agenda-a", 422)]
