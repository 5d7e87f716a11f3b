"""Reading the ANS "extraction annuaire santé" (RPPS) file, streamed.

``PS_LibreAcces_Personne_activite_<date>.txt``, alone or inside the
``PS_LibreAcces_<date>.zip`` as downloaded: ``|`` separated with a trailing ``|``,
a header line, one row per practitioner and practice place. Two layouts are known:
52 columns, and 56 where « Code rôle » / « Libellé rôle » (the function) and
« Code genre activité » / « Libellé genre activité » were added; columns are
matched by name, never by position. The encoding is UTF-8 in recent years and
Latin-1 (Windows-1252) in older files: it is decided on the header line, which
always holds accented letters (« Libellé profession »).
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

from app.directory.imports.common import ImportAborted, ImportReport, header_key

#: Our name for a column -> the names the ANS gave it over the years.
COLUMNS: dict[str, tuple[str, ...]] = {
    "id_type": ("Type d'identifiant PP",),
    "pp": ("Identifiant PP",),
    "national_id": ("Identification nationale PP",),
    "civility_ex": ("Libellé civilité d'exercice",),
    "civility": ("Libellé civilité",),
    "last_name": ("Nom d'exercice",),
    "first_name": ("Prénom d'exercice",),
    "profession_code": ("Code profession",),
    "profession": ("Libellé profession",),
    "sf_code": ("Code savoir-faire",),
    "sf": ("Libellé savoir-faire",),
    "mode": ("Libellé mode exercice",),
    "siret": ("Numéro SIRET site",),
    "finess": ("Numéro FINESS site",),
    "site_ref": ("Identifiant technique de la structure",),
    "site_name": ("Raison sociale site",),
    "site_sign": ("Enseigne commerciale site",),
    "street_no": ("Numéro Voie (coord. structure)",),
    "street_rep": ("Indice répétition voie (coord. structure)",),
    "street_type": ("Libellé type de voie (coord. structure)",),
    "street": ("Libellé Voie (coord. structure)",),
    "postal_code": ("Code postal (coord. structure)",),
    "insee": ("Code commune (coord. structure)",),
    "commune": ("Libellé commune (coord. structure)",),
    "cedex": ("Bureau cedex (coord. structure)",),
    "country": ("Code pays (coord. structure)",),
    "phone": ("Téléphone (coord. structure)",),
    "phone2": ("Téléphone 2 (coord. structure)",),
    "department": ("Code Département (structure)", "Code département (coord. structure)"),
    "role": ("Libellé rôle", "Libellé fonction"),
    "activity_kind": ("Libellé genre activité", "Libellé genre d'activité"),
}
#: Without these, the file is not the extraction.
REQUIRED = ("pp", "last_name", "profession_code", "profession", "postal_code", "insee")
#: The other columns of the published layouts: read by nobody here, but known (a
#: column outside both lists is reported as unknown).
OTHER_KNOWN = (
    "Code civilité d'exercice", "Code civilité", "Code catégorie professionnelle",
    "Libellé catégorie professionnelle", "Code type savoir-faire", "Libellé type savoir-faire",
    "Code mode exercice", "Numéro SIREN site", "Numéro FINESS établissement juridique",
    "Complément destinataire (coord. structure)",
    "Complément point géographique (coord. structure)",
    "Code type de voie (coord. structure)", "Mention distribution (coord. structure)",
    "Libellé pays (coord. structure)", "Télécopie (coord. structure)",
    "Adresse e-mail (coord. structure)", "Libellé Département (structure)",
    "Ancien identifiant de la structure", "Autorité d'enregistrement",
    "Code secteur d'activité", "Libellé secteur d'activité",
    "Code section tableau pharmaciens", "Libellé section tableau pharmaciens",
    "Code rôle", "Code genre activité", "Code fonction",
)  # fmt: skip
_BY_KEY = {header_key(name): ours for ours, names in COLUMNS.items() for name in names}
_OTHER_KEYS = {header_key(name) for name in OTHER_KNOWN}
MEMBER_PREFIX = "PS_LibreAcces_Personne_activite"


@dataclass
class Extraction:
    """An open extraction: its columns and its lines, undecoded."""

    stream: BinaryIO
    size: int  # bytes of the (uncompressed) text, for the progress bar
    columns: dict[str, int]  # our name -> position
    width: int  # fields on a line, the trailing "|" excluded
    encoding: str
    layout: str

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """(line number, raw line) after the header; a truncated archive aborts."""
        number = 1
        try:
            for raw in self.stream:
                number += 1
                yield number, raw
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise ImportAborted(
                f"archive tronquée ou corrompue à la ligne {number} ({exc}) : "
                "téléchargez-la de nouveau"
            ) from exc


@contextmanager
def open_extraction(path: Path, report: ImportReport) -> Iterator[Extraction]:
    """Open the .zip as downloaded or the .txt; check the header; name the encoding."""
    if zipfile.is_zipfile(path):
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise ImportAborted(f"archive zip illisible ({exc})") from exc
        with archive:
            members = [i for i in archive.infolist() if i.filename.endswith(".txt")]
            wanted = [i for i in members if Path(i.filename).name.startswith(MEMBER_PREFIX)]
            if len(wanted) != 1:
                names = ", ".join(i.filename for i in archive.infolist()) or "aucun fichier"
                raise ImportAborted(
                    f"l'archive ne contient pas un et un seul {MEMBER_PREFIX}_<date>.txt "
                    f"(contenu : {names})"
                )
            report.warnings.append(("fichier", f"lu dans l'archive : {wanted[0].filename}"))
            try:
                with archive.open(wanted[0]) as raw:
                    stream = cast(BinaryIO, io.BufferedReader(cast(Any, raw), 1 << 20))
                    yield _extraction(stream, wanted[0].file_size, report)
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                raise ImportAborted(f"archive tronquée ou corrompue ({exc})") from exc
        return
    with path.open("rb") as fh:
        head = fh.read(4)
    if head.startswith(b"PK"):
        raise ImportAborted(
            "archive zip tronquée ou corrompue (répertoire central absent) : "
            "téléchargez-la de nouveau"
        )
    with path.open("rb", buffering=1 << 20) as fh:
        yield _extraction(fh, path.stat().st_size, report)


def _extraction(stream: BinaryIO, size: int, report: ImportReport) -> Extraction:
    first = stream.readline()
    if not first.strip():
        raise ImportAborted("fichier vide")
    try:
        header_text = first.decode("utf-8-sig")
        encoding = "utf-8"
    except UnicodeDecodeError:
        header_text = first.decode("cp1252", errors="replace")
        encoding = "windows-1252"
    if "\x00" in header_text:
        raise ImportAborted("fichier binaire ou UTF-16 : ce n'est pas l'extraction RPPS")
    header_text = header_text.rstrip("\r\n")
    if header_text.count("|") < 10:
        seen = max(";,\t", key=header_text.count)
        raise ImportAborted(
            "séparateur « | » attendu (extraction annuaire santé de l'ANS) ; "
            f"la première ligne est séparée par « {seen} » : ce n'est pas ce fichier"
        )
    names = header_text.split("|")
    if names and names[-1] == "":
        names.pop()  # the trailing "|"
    columns: dict[str, int] = {}
    unknown = []
    for position, name in enumerate(names):
        key = header_key(name)
        ours = _BY_KEY.get(key)
        if ours is not None and ours not in columns:
            columns[ours] = position
        elif ours is None and key not in _OTHER_KEYS:
            unknown.append(name)
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        wanted = ", ".join(f"« {COLUMNS[c][0]} »" for c in missing)
        raise ImportAborted(
            f"colonne(s) de l'extraction RPPS absente(s) : {wanted} "
            f"(en-tête lu : {', '.join(names[:12])}{'…' if len(names) > 12 else ''})"
        )
    for name in unknown:
        report.warnings.append(("en-tête", f"colonne « {name} » inconnue : ignorée"))
    layout = f"{len(names)} colonnes" + (
        " (avec rôle et genre d'activité)" if "activity_kind" in columns else ""
    )
    report.encoding = encoding
    return Extraction(stream, size, columns, len(names), encoding, layout)
