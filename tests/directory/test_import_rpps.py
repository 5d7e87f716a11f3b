"""The national RPPS extraction: both layouts, both encodings, the zip, re-imports,
the SAS's own fields kept, and every bad input the field sends."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.directory.imports.rpps import import_rpps
from app.directory.models import Booking, Effecteur, Practice, Slot
from tests.directory.rpps_files import HEADER_52, HEADER_56, at, person, write

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

ROCHELLE = at("17300", "17000", "La Rochelle", "R10000000001", "DU PALAIS",
              **{"Raison sociale site": "CABINET MEDICAL DU PALAIS",
                 "Téléphone (coord. structure)": "05 46 00 00 01",
                 "Numéro SIRET site": "12345678900011"})  # fmt: skip
ROCHELLE_2 = at("17300", "17000", "La Rochelle", "R10000000002", "DES MERCIERS")
PARIS_15 = at("75115", "75015", "Paris", "R10000000003", "DE VAUGIRARD")  # arrondissement
NIORT = at("", "79000", "NIORT", "R10000000004", "RICARD")  # no INSEE code: postal + name


def national(tmp_path: Path, **kw: object) -> list[dict[str, str]]:
    return [
        person("10000000001", "MARTIN", "Anne", **ROCHELLE),
        person("10000000001", "MARTIN", "Anne", **ROCHELLE_2, **{
            "Code savoir-faire": "SM40", "Libellé savoir-faire": "Pédiatrie"}),
        person("10000000002", "DURAND", "Léa", **PARIS_15, **{
            "Code savoir-faire": "SM38", "Libellé savoir-faire": "Ophtalmologie"}),
        person("10000000003", "PETIT", "Hélène", **NIORT, **{
            "Code profession": "60", "Libellé profession": "Infirmier",
            "Code savoir-faire": "", "Libellé savoir-faire": "",
            "Libellé civilité d'exercice": "", "Libellé civilité": "Madame"}),
        person("10000000004", "ROUX", "Paul", **ROCHELLE, **{
            "Code profession": "28", "Libellé profession": "Opticien-Lunetier"}),
    ]  # fmt: skip


def effecteurs(sessions: sessionmaker[Session]) -> dict[str, Effecteur]:
    with sessions() as s:
        return {e.rpps: e for e in s.scalars(select(Effecteur)).unique()}


def test_utf8_56_columns_zip(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    path = write(tmp_path / "PS_LibreAcces_202612010000.zip", national(tmp_path), zipped=True)
    seen: list[tuple[int, int]] = []
    report = import_rpps(sessions, path, now=NOW, progress=lambda d, t: seen.append((d, t)))
    assert report.committed, report.aborted
    assert report.encoding == "utf-8"
    assert (report.created, report.updated, report.deactivated) == (3, 0, 0)
    assert report.accepted == 4 and not report.rejected
    assert any("Opticien-Lunetier (code 28)" in why for _, why in report.skipped)
    assert any("56 colonnes" in why for _, why in report.warnings)
    assert seen[-1][0] == seen[-1][1] > 0
    docs = effecteurs(sessions)
    anne = docs["10000000001"]
    assert (anne.profession, anne.specialty, anne.civility) == (
        "Médecin", "Médecine générale", "Docteur")  # fmt: skip
    assert anne.skills == ["Pédiatrie"] and anne.source == "rpps" and anne.active
    assert [p.site_ref for p in anne.practices] == ["R10000000001", "R10000000002"]
    first = anne.practices[0]
    assert (first.commune_insee, first.phone, first.siret, first.name) == (
        "17300", "0546000001", "12345678900011", "CABINET MEDICAL DU PALAIS")  # fmt: skip
    assert first.address == "12 Rue DU PALAIS" and first.lat is not None
    assert docs["10000000002"].practices[0].commune_insee == "75056"
    assert docs["10000000002"].specialty == "Ophtalmologie"
    helene = docs["10000000003"]
    assert (helene.profession, helene.specialty, helene.civility) == ("Infirmier", "", "Madame")
    assert helene.practices[0].commune_insee == "79191"
    assert "10000000004" not in docs


def test_latin1_52_columns_txt(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    path = write(
        tmp_path / "PS_LibreAcces_Personne_activite_201912010000.txt",
        national(tmp_path),
        header=HEADER_52,
        encoding="cp1252",
    )
    report = import_rpps(sessions, path, now=NOW)
    assert report.committed, report.aborted
    assert report.encoding == "windows-1252"
    assert any("52 colonnes" in why for _, why in report.warnings)
    assert effecteurs(sessions)["10000000002"].first_name == "Léa"


def test_every_profession_when_asked(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    path = write(tmp_path / "x.txt", national(tmp_path))
    report = import_rpps(sessions, path, now=NOW, professions=None)
    assert report.created == 4 and not report.skipped
    assert effecteurs(sessions)["10000000004"].profession == "Opticien-Lunetier"


def test_reimport_updates_deactivates_and_keeps_what_the_sas_knows(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    rows = national(tmp_path)
    import_rpps(sessions, write(tmp_path / "a.txt", rows), now=NOW)
    with sessions.begin() as s:
        anne = s.scalars(select(Effecteur).where(Effecteur.rpps == "10000000001")).one()
        anne.sas_participant, anne.agenda_level = True, "end_to_end"
        anne.conditions, anne.phone_direct = "appeler avant", "0600000000"
        anne.accepts_beyond_slots = True
        anne.skills = ["sutures", "Pédiatrie"]
        place = anne.practices[0]
        s.add(Slot(effecteur_id=anne.id, practice_id=anne.practices[1].id, start=NOW,
                   end=NOW + timedelta(minutes=15)))  # fmt: skip
        lea = s.scalars(select(Effecteur).where(Effecteur.rpps == "10000000002")).one()
        s.add(Booking(effecteur_id=lea.id, appointment_at=NOW))
        place_id = place.id
    # Anne moved her first practice's phone, left her second place; Léa left.
    changed = [
        person("10000000001", "MARTIN", "Anne", **{**ROCHELLE,
               "Téléphone (coord. structure)": "0546999999"}),
        rows[3],
    ]  # fmt: skip
    report = import_rpps(sessions, write(tmp_path / "b.txt", changed), now=NOW)
    assert report.committed, report.aborted
    assert (report.created, report.deactivated) == (0, 1)
    docs = effecteurs(sessions)
    anne = docs["10000000001"]
    assert anne.sas_participant and anne.agenda_level == "end_to_end"
    assert anne.conditions == "appeler avant" and anne.phone_direct == "0600000000"
    assert anne.accepts_beyond_slots and anne.skills == ["sutures", "Pédiatrie"]
    assert anne.practices[0].id == place_id and anne.practices[0].phone == "0546999999"
    # The second place has a slot: kept, and said so.
    assert len(anne.practices) == 2
    assert any("créneaux y sont rattachés" in why for _, why in report.warnings)
    lea = docs["10000000002"]
    assert not lea.active  # deactivated, not deleted: a booking names her
    with sessions() as s:
        assert s.scalar(select(func.count(Booking.id))) == 1
    # She comes back: active again.
    report = import_rpps(sessions, write(tmp_path / "c.txt", rows), now=NOW)
    assert effecteurs(sessions)["10000000002"].active
    assert report.updated >= 1


def test_a_run_limited_to_doctors_leaves_nurses_alone(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    rows = national(tmp_path)
    import_rpps(sessions, write(tmp_path / "a.txt", rows), now=NOW)
    report = import_rpps(sessions, write(tmp_path / "b.txt", rows), now=NOW, professions={"10"})
    assert report.deactivated == 0 and effecteurs(sessions)["10000000003"].active
    assert any("Infirmier (code 60)" in why for _, why in report.skipped)
    report = import_rpps(sessions, write(tmp_path / "c.txt", rows[:2]), now=NOW, professions={"10"})
    assert report.deactivated == 1  # the ophthalmologist left; the nurse was not read
    docs = effecteurs(sessions)
    assert not docs["10000000002"].active and docs["10000000003"].active


def test_sas_row_becomes_national(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    with sessions.begin() as s:
        s.add(Effecteur(rpps="10000000001", last_name="Martin", sas_participant=True))
    report = import_rpps(sessions, write(tmp_path / "a.txt", national(tmp_path)), now=NOW)
    assert (report.created, report.updated) == (2, 1)
    anne = effecteurs(sessions)["10000000001"]
    assert anne.sas_participant and anne.last_name == "MARTIN" and anne.source == "rpps"


def test_bad_rows_are_rejected_with_their_line(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    rows = [
        *national(tmp_path)[:3],
        person("10000000005", "BLANC", "Luc", **at("99999", "17000", "X", "R1")),
        person("10000000001", "MARTIN", "Anne", **ROCHELLE),  # same place again
        person("10000000002", "DUPONT", "Marc", **NIORT),  # same RPPS, someone else
        person("123", "COURT", "Ali", **NIORT),
        person("10000000006", "", "Sans", **NIORT),
        person("10000000007", "VERT", "Ana", **{**NIORT, "Identification nationale PP": "81"}),
    ]
    report = import_rpps(sessions, write(tmp_path / "a.txt", rows), now=NOW)
    assert report.committed
    why = dict(report.rejected)
    assert "code commune INSEE « 99999 » inconnu" in why["ligne 5"]
    assert "même lieu d'exercice que la ligne 2" in why["ligne 6"]
    assert "en double" in why["ligne 7"] and "Léa DURAND" in why["ligne 7"]
    assert "11 chiffres" in why["ligne 8"]
    assert "nom d'exercice manquant" in why["ligne 9"]
    assert "« 810000000007 » attendu (8 + RPPS)" in why["ligne 10"]
    assert set(effecteurs(sessions)) == {"10000000001", "10000000002"}


def test_strict_rolls_everything_back(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    rows = [*national(tmp_path), person("10000000005", "BLANC", "Luc", **at("99999", "", "", "R"))]
    report = import_rpps(sessions, write(tmp_path / "a.txt", rows), now=NOW, strict=True)
    assert not report.committed and "strict" in report.aborted
    assert effecteurs(sessions) == {}


def test_not_the_extraction(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    semicolons = tmp_path / "annuaire.csv"
    semicolons.write_text(";".join(HEADER_56) + "\n1;2;3\n", encoding="utf-8")
    report = import_rpps(sessions, semicolons, now=NOW)
    assert "séparateur « | » attendu" in report.aborted and "« ; »" in report.aborted
    other = tmp_path / "autre.txt"
    other.write_text("Nom|Prénom|Ville|A|B|C|D|E|F|G|H|I|\nX|Y|Z|||||||||||\n", encoding="utf-8")
    report = import_rpps(sessions, other, now=NOW)
    assert "« Identifiant PP »" in report.aborted and "en-tête lu : Nom, Prénom" in report.aborted
    empty = tmp_path / "vide.txt"
    empty.write_bytes(b"")
    assert import_rpps(sessions, empty, now=NOW).aborted == "fichier vide"


def test_truncated_zip_changes_nothing(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    rows = national(tmp_path) * 1
    many = [person(f"1{i:010d}", f"NOM{i}", "X", **ROCHELLE) for i in range(3000)]
    full = write(tmp_path / "full.zip", rows[:1] + many, zipped=True)
    data = full.read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(data[: len(data) // 2])  # central directory gone
    report = import_rpps(sessions, cut, now=NOW)
    assert "tronquée" in report.aborted
    # Central directory intact, compressed data damaged: fails while streaming.
    with zipfile.ZipFile(full) as zf:
        info = zf.infolist()[0]
    damaged = bytearray(data)
    middle = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    damaged[middle : middle + 64] = bytes(64)
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(damaged))
    report = import_rpps(sessions, bad, now=NOW)
    assert not report.committed and "corrompue" in report.aborted
    assert effecteurs(sessions) == {}
    with sessions() as s:
        assert s.scalar(select(func.count(Practice.id))) == 0


def test_zip_without_the_file(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    path = tmp_path / "autre.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("lisez-moi.txt", "rien")
    report = import_rpps(sessions, path, now=NOW)
    assert "PS_LibreAcces_Personne_activite_<date>.txt" in report.aborted
    assert "lisez-moi.txt" in report.aborted


def test_cut_line_and_bad_bytes(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", national(tmp_path))
    data = path.read_bytes() + b"8|10000000009|810000000009|DR|Docteur\r\n"
    data += "|".join(["x\xe9"] * 56).encode("latin-1") + b"|\r\n"
    path.write_bytes(data)
    report = import_rpps(sessions, path, now=NOW)
    why = dict(report.rejected)
    assert "5 champs pour 56 colonnes" in why["ligne 7"]
    assert "octets illisibles en utf-8" in why["ligne 8"]
    assert report.created == 3


def test_header_56_variant_names_known() -> None:
    assert HEADER_56[-4:] == [
        "Code rôle", "Libellé rôle", "Code genre activité", "Libellé genre activité"]  # fmt: skip
