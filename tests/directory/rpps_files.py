"""Extraction files written for the tests, with the ANS's real header names.

The two layouts as published (PS_LibreAcces_Personne_activite_<date>.txt): the
52-column one, and the 56-column one that adds « Code rôle » / « Libellé rôle » and
« Code genre activité » / « Libellé genre activité ». Spelled out here, not taken
from the importer, so that a typo there fails here.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

HEADER_52 = (
    "Type d'identifiant PP|Identifiant PP|Identification nationale PP|"
    "Code civilité d'exercice|Libellé civilité d'exercice|Code civilité|Libellé civilité|"
    "Nom d'exercice|Prénom d'exercice|Code profession|Libellé profession|"
    "Code catégorie professionnelle|Libellé catégorie professionnelle|"
    "Code type savoir-faire|Libellé type savoir-faire|Code savoir-faire|"
    "Libellé savoir-faire|Code mode exercice|Libellé mode exercice|Numéro SIRET site|"
    "Numéro SIREN site|Numéro FINESS site|Numéro FINESS établissement juridique|"
    "Identifiant technique de la structure|Raison sociale site|Enseigne commerciale site|"
    "Complément destinataire (coord. structure)|"
    "Complément point géographique (coord. structure)|Numéro Voie (coord. structure)|"
    "Indice répétition voie (coord. structure)|Code type de voie (coord. structure)|"
    "Libellé type de voie (coord. structure)|Libellé Voie (coord. structure)|"
    "Mention distribution (coord. structure)|Bureau cedex (coord. structure)|"
    "Code postal (coord. structure)|Code commune (coord. structure)|"
    "Libellé commune (coord. structure)|Code pays (coord. structure)|"
    "Libellé pays (coord. structure)|Téléphone (coord. structure)|"
    "Téléphone 2 (coord. structure)|Télécopie (coord. structure)|"
    "Adresse e-mail (coord. structure)|Code Département (structure)|"
    "Libellé Département (structure)|Ancien identifiant de la structure|"
    "Autorité d'enregistrement|Code secteur d'activité|Libellé secteur d'activité|"
    "Code section tableau pharmaciens|Libellé section tableau pharmaciens|"
).split("|")[:-1]
HEADER_56 = [*HEADER_52, "Code rôle", "Libellé rôle", "Code genre activité",
             "Libellé genre activité"]  # fmt: skip
assert len(HEADER_52) == 52 and len(HEADER_56) == 56

GP = {
    "Type d'identifiant PP": "8", "Code civilité d'exercice": "DR",
    "Libellé civilité d'exercice": "Docteur", "Code profession": "10",
    "Libellé profession": "Médecin", "Code type savoir-faire": "S",
    "Libellé type savoir-faire": "Spécialité ordinale", "Code savoir-faire": "SM54",
    "Libellé savoir-faire": "Médecine générale", "Code mode exercice": "L",
    "Libellé mode exercice": "Libéral", "Libellé type de voie (coord. structure)": "Rue",
}  # fmt: skip


def person(pp: str, last: str, first: str, **fields: str) -> dict[str, str]:
    row = dict(GP)
    row.update({"Identifiant PP": pp, "Identification nationale PP": f"8{pp}",
                "Nom d'exercice": last, "Prénom d'exercice": first})  # fmt: skip
    row.update(fields)
    return row


def at(insee: str, postal: str, commune: str, site: str, street: str = "", **more: str) -> dict:
    return {
        "Code commune (coord. structure)": insee, "Code postal (coord. structure)": postal,
        "Libellé commune (coord. structure)": commune,
        "Identifiant technique de la structure": site, "Libellé Voie (coord. structure)": street,
        "Numéro Voie (coord. structure)": "12" if street else "", **more,
    }  # fmt: skip


def lines(rows: list[dict[str, str]], header: list[str]) -> list[str]:
    out = ["|".join(header) + "|"]
    for row in rows:
        unknown = set(row) - set(header)
        assert not unknown, unknown
        out.append("|".join(row.get(h, "") for h in header) + "|")
    return out


def write(
    path: Path,
    rows: list[dict[str, str]],
    *,
    header: list[str] = HEADER_56,
    encoding: str = "utf-8",
    zipped: bool = False,
) -> Path:
    data = ("\r\n".join(lines(rows, header)) + "\r\n").encode(encoding)
    if not zipped:
        path.write_bytes(data)
        return path
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("PS_LibreAcces_Personne_activite_202612010000.txt", data)
        zf.writestr("PS_LibreAcces_Dipl_AutExerc_202612010000.txt", "Type|\r\n")
    return path
