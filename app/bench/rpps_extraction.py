"""A national RPPS extraction for the directory bench: the real file's layout and size.

``--rows`` rows of the 56-column layout (``PS_LibreAcces_Personne_activite``), in a
zip as the ANS publishes it: ``--doctors`` general practitioners, the other
professions in about the proportions of the real file, practice places over every
commune of France weighted by population, a second place for one practitioner in
ten. Names, addresses and phones are made up.
"""

from __future__ import annotations

import io
import itertools
import random
import zipfile
from dataclasses import dataclass
from pathlib import Path

from app.geo import Commune, default_index

#: The published header, 56-column layout (2024 onwards).
HEADER = (
    "Type d'identifiant PP", "Identifiant PP", "Identification nationale PP",
    "Code civilité d'exercice", "Libellé civilité d'exercice", "Code civilité",
    "Libellé civilité", "Nom d'exercice", "Prénom d'exercice", "Code profession",
    "Libellé profession", "Code catégorie professionnelle",
    "Libellé catégorie professionnelle", "Code type savoir-faire",
    "Libellé type savoir-faire", "Code savoir-faire", "Libellé savoir-faire",
    "Code mode exercice", "Libellé mode exercice", "Numéro SIRET site", "Numéro SIREN site",
    "Numéro FINESS site", "Numéro FINESS établissement juridique",
    "Identifiant technique de la structure", "Raison sociale site",
    "Enseigne commerciale site", "Complément destinataire (coord. structure)",
    "Complément point géographique (coord. structure)", "Numéro Voie (coord. structure)",
    "Indice répétition voie (coord. structure)", "Code type de voie (coord. structure)",
    "Libellé type de voie (coord. structure)", "Libellé Voie (coord. structure)",
    "Mention distribution (coord. structure)", "Bureau cedex (coord. structure)",
    "Code postal (coord. structure)", "Code commune (coord. structure)",
    "Libellé commune (coord. structure)", "Code pays (coord. structure)",
    "Libellé pays (coord. structure)", "Téléphone (coord. structure)",
    "Téléphone 2 (coord. structure)", "Télécopie (coord. structure)",
    "Adresse e-mail (coord. structure)", "Code Département (structure)",
    "Libellé Département (structure)", "Ancien identifiant de la structure",
    "Autorité d'enregistrement", "Code secteur d'activité", "Libellé secteur d'activité",
    "Code section tableau pharmaciens", "Libellé section tableau pharmaciens", "Code rôle",
    "Libellé rôle", "Code genre activité", "Libellé genre activité",
)  # fmt: skip
MEMBER = "PS_LibreAcces_Personne_activite_202612010000.txt"
#: (code, label, savoir-faire code, savoir-faire label, share of the rows besides GPs)
PROFESSIONS = (
    ("10", "Médecin", "SM38", "Ophtalmologie", 0.02),
    ("10", "Médecin", "SM40", "Pédiatrie", 0.015),
    ("10", "Médecin", "SM42", "Psychiatrie", 0.02),
    ("10", "Médecin", "SM04", "Anesthesie-réanimation", 0.02),
    ("10", "Médecin", "SM15", "Gynécologie-obstétrique", 0.015),
    ("60", "Infirmier", "", "", 0.45),
    ("70", "Masseur-Kinésithérapeute", "", "", 0.1),
    ("21", "Pharmacien", "", "", 0.08),
    ("40", "Chirurgien-Dentiste", "", "", 0.05),
    ("50", "Sage-Femme", "", "", 0.025),
    ("28", "Opticien-Lunetier", "", "", 0.05),
    ("91", "Orthophoniste", "", "", 0.03),
    ("93", "Psychologue", "", "", 0.07),
    ("80", "Pédicure-Podologue", "", "", 0.015),
    ("26", "Audioprothésiste", "", "", 0.01),
    ("96", "Psychomotricien", "", "", 0.03),
)
LAST = (
    "MARTIN BERNARD DUBOIS THOMAS ROBERT RICHARD PETIT DURAND LEROY MOREAU SIMON LAURENT "
    "LEFEBVRE MICHEL GARCIA DAVID BERTRAND ROUX VINCENT FOURNIER MOREL GIRARD ANDRE "
    "LEFEVRE MERCIER DUPONT LAMBERT BONNET FRANCOIS MARTINEZ LEGRAND GARNIER FAURE "
    "ROUSSEAU BLANC GUERIN MULLER HENRY ROUSSEL NICOLAS PERRIN MORIN MATHIEU CLEMENT"
).split()
FIRST = (
    "Marie Nathalie Isabelle Sophie Julie Claire Anne Camille Pierre Jean Nicolas Thomas "
    "Julien Olivier Antoine Luc Hélène Léa Chloé Zoé Benoît Jérôme"
).split()
STREETS = ("DE LA REPUBLIQUE", "VICTOR HUGO", "JEAN JAURES", "DU GENERAL DE GAULLE", "PASTEUR")


@dataclass
class Generated:
    path: Path
    rows: int
    persons: int
    gps: int
    gp_names: list[tuple[str, str]]  # (first, last) of a sample of GPs: MT searches
    communes: list[Commune]
    weights: list[int]


def _line(values: dict[str, str]) -> str:
    return "|".join(values.get(h, "") for h in HEADER) + "|\n"


def generate(directory: Path, rows: int, doctors: int, seed: int = 17) -> Generated:
    """Write the zip; GPs' identifiers are 1 followed by 10 digits, the others 2…."""
    rng = random.Random(seed)
    communes = [c for c in default_index() if c.population]
    weights = [c.population or 0 for c in communes]
    cumulative = list(itertools.accumulate(weights))  # choices() would re-add 35,000 weights
    others = [p for p in PROFESSIONS]
    other_weights = [p[4] for p in others]
    path = directory / "PS_LibreAcces_202612010000.zip"
    gp_names: list[tuple[str, str]] = []
    persons = written = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open(MEMBER, "w", force_zip64=True) as raw:
            out = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            out.write("|".join(HEADER) + "|\n")
            while written < rows:
                gp = persons < doctors
                if gp:
                    pp = f"1{persons:010d}"
                    kind = ("10", "Médecin", "SM54", "Médecine générale")
                else:
                    pp = f"2{persons:010d}"
                    kind = rng.choices(others, other_weights)[0][:4]
                persons += 1
                first, last = rng.choice(FIRST), rng.choice(LAST)
                if gp and len(gp_names) < 5000:
                    gp_names.append((first, last))
                places = 2 if rng.random() < 0.1 else 1
                for n in range(min(places, rows - written)):
                    commune = rng.choices(communes, cum_weights=cumulative)[0]
                    values = {
                        "Type d'identifiant PP": "8", "Identifiant PP": pp,
                        "Identification nationale PP": f"8{pp}",
                        "Code civilité d'exercice": "DR" if kind[0] == "10" else "",
                        "Libellé civilité d'exercice": "Docteur" if kind[0] == "10" else "",
                        "Code civilité": "MME", "Libellé civilité": "Madame",
                        "Nom d'exercice": last, "Prénom d'exercice": first,
                        "Code profession": kind[0], "Libellé profession": kind[1],
                        "Code savoir-faire": kind[2], "Libellé savoir-faire": kind[3],
                        "Code mode exercice": "L", "Libellé mode exercice": "Libéral",
                        "Identifiant technique de la structure": f"R{pp}{n}",
                        "Raison sociale site": f"CABINET {last}",
                        "Numéro Voie (coord. structure)": str(rng.randint(1, 120)),
                        "Libellé type de voie (coord. structure)": "Rue",
                        "Libellé Voie (coord. structure)": rng.choice(STREETS),
                        "Code postal (coord. structure)": commune.postal_code,
                        "Code commune (coord. structure)": commune.insee,
                        "Libellé commune (coord. structure)": commune.name,
                        "Téléphone (coord. structure)": f"0{rng.randint(100000000, 599999999)}",
                        "Code Département (structure)": commune.department,
                        "Code genre activité": "GENR01",
                        "Libellé genre activité": "Activité standard de soin ou de pharmacien",
                    }  # fmt: skip
                    out.write(_line(values))
                    written += 1
            out.flush()
            out.detach()
    return Generated(path, written, persons, min(doctors, persons), gp_names, communes, weights)
