"""After the appointment: the patient text, the letter to the MT (a real PDF a doctor
would accept), and the billing hint for the effecteur."""

from __future__ import annotations

import base64
import itertools
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from app.callback.billing import billing_hint
from app.callback.models import Appointment
from tests.callback.conftest import NOW, Desks, FakeClock, Territory, osnp_task, plan, target

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext, pdftoppm) not installed"
)


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "courrier.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return out.stdout


CALLS = itertools.count(1)


def accepted(desks: Desks, kind: str = "CRENEAU", **appointment: str) -> tuple[int, dict]:
    task_id = osnp_task(
        desks, "Dr Claire Vasseur", ref=f"call-{next(CALLS)}", patient_first_name="Zoé"
    )
    p = plan(desks, task_id)
    desks.osnp.send("callback.attempt", target_id=target(p, "MT")["id"], result="NO_ANSWER")
    extra = {"appointment": appointment} if appointment else {}
    reply = desks.osnp.send(
        "callback.attempt", target_id=target(p, kind)["id"], result="ACCEPTED", **extra
    )
    return task_id, reply


def test_patient_text_says_who_when_where_and_what_to_bring(
    desks: Desks, territory: Territory
) -> None:
    task_id, reply = accepted(desks)
    text = desks.osnp.send("callback.patient_text", task_id=task_id)["patient_text"]
    assert text == reply["patient_text"]
    message = text["message"]
    assert (
        "SAS 17 : RDV pour Zoé avec Dr Inès Barbier le lundi 23 novembre à 15h00, "
        "au cabinet : Cabinet, 3 rue du Fort"
    ) in message
    assert "carte Vitale" in message and "carnet de santé" in message
    assert text["send_to"] == "0639980101"
    script = desks.osnp.send("callback.script", task_id=task_id)["script"]
    assert script["step"] == "PATIENT" and script["message"] == message


def test_home_visit_text_gives_the_patients_address(desks: Desks, territory: Territory) -> None:
    _, reply = accepted(
        desks, "HORS_DISPO", at=(NOW + timedelta(hours=6)).isoformat(), consultation_type="visite"
    )
    message = reply["patient_text"]["message"]
    assert "en visite à domicile : 5 rue des Dames, 17000 La Rochelle" in message
    codes = {x["code"]: x["applies"] for x in reply["billing"]["lines"]}
    assert codes == {"SNP": True, "MVR": True}
    assert reply["billing"]["total_eur"] == 25


@needs_poppler
def test_letter_to_the_mt_reads_like_a_letter(
    desks: Desks, territory: Territory, tmp_path: Path
) -> None:
    task_id, reply = accepted(desks)
    letter = desks.osnp.send("callback.letter", task_id=task_id)["letter"]
    assert desks.osnp.events() == ["callback.letter_made"]
    pdf = base64.b64decode(letter["pdf_base64"])
    assert pdf.startswith(b"%PDF") and letter["filename"].endswith(".pdf")
    text = " ".join(pdf_text(pdf, tmp_path).split())
    for expected in (
        "Service d'accès aux soins (SAS) de Charente-Maritime",
        "À l'attention du Dr Claire Vasseur",
        "Le 23 novembre 2026",
        "Objet : prise en charge de votre patiente en soins non programmés",
        "Patiente : Zoé MORIN, 3 ans",
        "Chère Consœur, cher Confrère,",
        "« Fièvre 39,5 depuis hier »",
        "une consultation dans les 48 heures a été jugée nécessaire",
        "Nous n'avons pas pu vous joindre dans ce délai.",
        "Elle a rendez-vous le lundi 23 novembre à 15h00, au cabinet, avec le Dr Inès Barbier",
        "assurer la suite de la prise en charge de votre patiente",
        "Bien confraternellement,",
        "médecin régulateur",
        "secret médical",
    ):
        assert expected in text, expected
    assert "?" not in text.replace("Nous restons", "")  # nothing left unfilled
    subprocess.run(
        ["pdftoppm", "-r", "50", "-png", str(tmp_path / "courrier.pdf"), str(tmp_path / "page")],
        check=True,
    )
    assert (tmp_path / "page-1.png").stat().st_size > 2000
    assert not (tmp_path / "page-2.png").exists()  # one page


@needs_poppler
def test_letter_after_the_visit_says_the_patient_was_seen(
    desks: Desks, territory: Territory, tmp_path: Path, clock: FakeClock
) -> None:
    task_id, reply = accepted(desks)
    clock.advance(hours=8)
    desks.osnp.send(
        "callback.appointment.status", appointment_id=reply["appointment"]["id"], status="HONOURED"
    )
    pdf = base64.b64decode(
        desks.mrl.send("callback.letter", task_id=task_id)["letter"]["pdf_base64"]
    )
    text = " ".join(pdf_text(pdf, tmp_path).split())
    assert (
        "Elle a été reçue le lundi 23 novembre à 15h00, au cabinet, par le Dr Inès Barbier" in text
    )


def test_no_letter_when_the_mt_saw_the_patient_or_they_did_not_come(
    desks: Desks, territory: Territory
) -> None:
    task_id, _ = accepted(desks, "MT", at=(NOW + timedelta(hours=5)).isoformat())
    err = desks.osnp.refused("callback.letter", task_id=task_id)
    assert err.code == "invalid_state" and "médecin traitant" in err.message
    task_id, reply = accepted(desks)
    desks.osnp.send(
        "callback.appointment.status", appointment_id=reply["appointment"]["id"], status="CANCELLED"
    )
    err = desks.osnp.refused("callback.letter", task_id=task_id)
    assert err.code == "invalid_state" and "n'a pas été vu" in err.message


def appointment(
    hours_after: float, hour_utc: int = 10, *, mt: bool = False, visit: bool = False
) -> Appointment:
    at = NOW.replace(hour=hour_utc) + timedelta(hours=hours_after // 24 * 24)
    return Appointment(
        at=at,
        regulated_at=at - timedelta(hours=hours_after),
        is_treating_doctor=mt,
        consultation_type="visite" if visit else "cabinet",
    )


def test_billing_rules() -> None:
    hint = billing_hint(appointment(3), weekly_snp=4)
    assert hint["total_eur"] == 15 and hint["text"] == "À coter : SNP (15 €)"
    assert billing_hint(appointment(3, mt=True), 4)["total_eur"] == 0
    late = billing_hint(appointment(49), 4)
    assert late["total_eur"] == 0 and "au-delà de 48 h" in late["lines"][0]["why"]
    evening = billing_hint(appointment(2, hour_utc=18), 4)  # 19:00 in Paris
    assert evening["total_eur"] == 20 and evening["text"] == "À coter : SNP + SHE (20 €)"
    assert billing_hint(appointment(2, hour_utc=20), 4)["total_eur"] == 15  # 21:00: no SHE
    assert billing_hint(appointment(5, visit=True), 4)["total_eur"] == 25
    day_after = billing_hint(appointment(30, visit=True), 4)
    assert day_after["total_eur"] == 15  # MVR only within 24 h
    last = billing_hint(appointment(3), 20)
    assert last["total_eur"] == 15 and "dernier patient SNP payé" in last["text"]
    over = billing_hint(appointment(3, hour_utc=18), 21)
    assert over["total_eur"] == 0 and "plafond atteint" in over["lines"][0]["why"]
