"""Scripts: the room's files render with the dossier's facts; broken files are refused
with the file, the line and the reason."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.callback.scripts import load_script, load_scripts
from app.callback.settings import RESOURCES, SETTINGS_FILE, load_settings
from app.config.tomlfile import FileError
from tests.callback.conftest import Desks, Territory, osnp_task, plan, target

GOOD = '''etape = "MT"
titre = "Appel au médecin traitant"
texte = """
Bonjour, j'appelle pour {patient_prenom}, {patient_age}.
"""

[[questions]]
id = "peut_recevoir"
texte = "Pouvez-vous le recevoir avant le {echeance} ?"
'''


def write(tmp_path: Path, text: str, name: str = "mt.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[tuple[int | None, str]]:
    with pytest.raises(FileError) as caught:
        load_script(path)
    return [(p.line, p.reason) for p in caught.value.problems]


def test_shipped_scripts_load_and_cover_every_step() -> None:
    book = load_scripts()
    assert sorted(book) == ["CONFRERE", "CRENEAU", "HORS_DISPO", "MT", "PATIENT"]
    load_settings()


def test_script_rendered_with_the_dossier_facts(desks: Desks, territory: Territory) -> None:
    task_id = osnp_task(
        desks, "Dr Vasseur", patient_first_name="Zoé", motif="Fièvre 39,5 depuis hier, mange peu"
    )
    p = plan(desks, task_id)
    script = desks.osnp.send("callback.script", target_id=target(p, "MT")["id"])["script"]
    assert script["title"] == "Appel au médecin traitant"
    text = script["text"]
    assert "Zoé Morin, 3 ans" in text
    assert "« Fièvre 39,5 depuis hier, mange peu »" in text
    assert "mercredi 25 novembre à 10h00" in text  # the 48 h deadline, Paris time
    assert "osnp (OSNP)" in text  # who is calling
    assert "01 99 00 17 17" in script["conclusion"]  # where the doctor calls back
    assert script["questions"][0]["text"] == (
        "Pouvez-vous recevoir Zoé d'ici le mercredi 25 novembre à 10h00 ?"
    )
    rendered = [
        script["title"],
        text,
        script["conclusion"],
        *(q["text"] for q in script["questions"]),
    ]
    assert not any("{" in x or "?" == x.strip() for x in rendered)
    beyond = desks.osnp.send("callback.script", target_id=target(p, "HORS_DISPO")["id"])
    assert "M'appeler avant chaque consultation" in beyond["script"]["questions"][1]["text"]
    slot = desks.osnp.send("callback.script", target_id=target(p, "CRENEAU")["id"])["script"]
    assert "lundi 23 novembre à 15h00 (au cabinet)" in slot["text"]
    err = desks.osnp.refused("callback.script", task_id=task_id)
    assert err.code == "invalid_state"  # the patient's script needs the appointment


def test_good_file_loads(tmp_path: Path) -> None:
    script = load_script(write(tmp_path, GOOD))
    assert script.step == "MT" and script.questions[0].id == "peut_recevoir"


def test_syntax_error_gives_the_line(tmp_path: Path) -> None:
    broken = GOOD.replace('id = "peut_recevoir"', 'id = "peut_recevoir')
    [(line, reason)] = problems(write(tmp_path, broken))
    assert line == 8 and "syntaxe TOML" in reason


def test_unknown_placeholder_gives_line_and_name(tmp_path: Path) -> None:
    broken = GOOD.replace("{echeance}", "{date_limite}")
    [(line, reason)] = problems(write(tmp_path, broken))
    assert line == 9 and "{date_limite}" in reason


def test_appointment_facts_only_in_the_patient_script(tmp_path: Path) -> None:
    broken = GOOD.replace("{patient_age}", "{rdv_heure}")
    [(line, reason)] = problems(write(tmp_path, broken))
    assert line == 4 and "PATIENT" in reason


def test_unbalanced_brace(tmp_path: Path) -> None:
    broken = GOOD.replace("{patient_age}", "{patient_age")
    [(line, reason)] = problems(write(tmp_path, broken))
    assert line == 3 and "accolade" in reason


def test_missing_keys_unknown_step_and_duplicate_questions(tmp_path: Path) -> None:
    broken = (
        GOOD.replace('etape = "MT"', 'etape = "PHARMACIE"').replace(
            'titre = "Appel au médecin traitant"\n', ""
        )
        + '\n[[questions]]\nid = "peut_recevoir"\ntexte = "Encore ?"\ncouleur = "rouge"\n'
    )
    found = problems(write(tmp_path, broken))
    reasons = " | ".join(r for _, r in found)
    assert "« titre = … » manquant" in reasons
    assert (
        1,
        "étape inconnue « PHARMACIE » (attendu : MT, CONFRERE, CRENEAU, HORS_DISPO, PATIENT)",
    ) in found
    assert any(line == 11 and "même id" in r for line, r in found)
    assert any(line == 13 and "couleur" in r for line, r in found)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "mt.toml"
    path.write_bytes(GOOD.replace("médecin", "m\xe9decin").encode("latin-1"))
    [(line, reason)] = problems(path)
    assert line == 2 and "UTF-8" in reason


def test_folder_with_a_broken_or_missing_step_is_refused(tmp_path: Path) -> None:
    for f in RESOURCES.glob("*.toml"):
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "confrere.toml").unlink()
    with pytest.raises(FileError, match="aucun script pour l'étape CONFRERE"):
        load_scripts(tmp_path)
    shutil.copy(tmp_path / "mt.toml", tmp_path / "mt-copie.toml")
    shutil.copy(RESOURCES / "confrere.toml", tmp_path / "confrere.toml")
    with pytest.raises(FileError, match=r"mt.toml, ligne 5 : l'étape MT a déjà un script"):
        load_scripts(tmp_path)


def test_settings_errors_name_the_line(tmp_path: Path) -> None:
    text = SETTINGS_FILE.read_text(encoding="utf-8")
    broken = text.replace('mardi = "08:00-20:00"', 'mardi = "8h-20h"').replace(
        "rappel_sans_reponse_minutes = 15", "rappel_sans_reponse_minutes = 0"
    )
    path = write(tmp_path, broken, "reglages.toml")
    with pytest.raises(FileError) as caught:
        load_settings(path)
    lines = {p.line: p.reason for p in caught.value.problems}
    mardi = text.splitlines().index('mardi = "08:00-20:00"') + 1
    assert "horaire du mardi invalide" in lines[mardi]
    retry = text.splitlines().index("rappel_sans_reponse_minutes = 15") + 1
    assert "nombre entier de 1 à 240" in lines[retry]
    assert str(caught.value).startswith(f"reglages.toml, ligne {mardi} : ")
