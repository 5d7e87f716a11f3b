"""``appointment.platform_search``: the national platform's search for one dossier.

The desk's shortcut asks the hub, which knows the room's ``[plateforme_sas]`` settings
and the directory: the address comes back with what the dossier tells the platform (the
treating doctor's national identifier when the directory names exactly one, the
specialty the regulator asked for, the patient's address), and notes saying what was
left out and why. The address carries the patient's address, so the read is audited,
granted or refused, like any other read of the dossier.
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.appointments.platform_search import SearchContext, platform_search_url
from app.appointments.protocol import AppointmentPlatformSearch, PlatformSearchReply
from app.appointments.settings import PlatformSettings
from app.db.models import Dossier, OsnpTask
from app.directory.models import Effecteur
from app.directory.query import parse_treating_doctor
from app.domain.professions import Wanted, fold
from app.domain.rules import FlowError
from app.hub.dossiers import audited_visible_dossier, task_of
from app.hub.protocol import IntentName
from app.hub.read_audit import record_read
from app.hub.service import HubService, Unit

#: "12 bis rue de la Paix", "3, avenue Foch": the number (with its bis/ter) and the street.
_STREET = re.compile(r"^\s*(\d{1,5}(?:\s*(?:bis|ter|quater|[a-d])\b)?)[\s,]+(\D.*)$", re.IGNORECASE)


def split_street(address: str) -> tuple[str, str]:
    """(number, street) of the address's first line; ("", first line) without a number."""
    first = (address or "").strip().splitlines()[0].strip() if (address or "").strip() else ""
    match = _STREET.match(first)
    if match is None:
        return "", first
    return re.sub(r"\s+", " ", match.group(1)), match.group(2).strip(" ,")


#: What fold() does to a French name, as SQL both SQLite and PostgreSQL run.
_FOLDS = (("é", "e"), ("è", "e"), ("ê", "e"), ("ë", "e"), ("à", "a"), ("â", "a"),
          ("ä", "a"), ("î", "i"), ("ï", "i"), ("ô", "o"), ("ö", "o"), ("ù", "u"),
          ("û", "u"), ("ü", "u"), ("ç", "c"), ("ÿ", "y"), ("-", " "), ("'", " "))  # fmt: skip


def _folded(column: InstrumentedAttribute[str]) -> ColumnElement[str]:
    folded = func.lower(column)
    for accented, plain in _FOLDS:
        folded = func.replace(folded, accented, plain)
    return folded


def treating_doctor_national_id(s: Session, text: str) -> tuple[str, str]:
    """(national identifier "8" + RPPS, note) for what the dossier says of the MT.

    An RPPS written in the dossier is taken as it is; a name must name exactly one
    active effecteur of the directory (last name, then first name to narrow), else the
    search goes without it and the note says why."""
    rpps, words = parse_treating_doctor(text)
    if rpps:
        return "8" + rpps, ""
    if not words:
        return "", "pas de médecin traitant dans le dossier"
    spans = {" ".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, len(words) + 1)}
    rows = s.execute(
        select(Effecteur.rpps, Effecteur.first_name, Effecteur.last_name).where(
            Effecteur.active.is_(True),
            Effecteur.profession == "Médecin",
            _folded(Effecteur.last_name).in_(sorted(spans)),
        )
    ).all()
    # The database folded the usual French letters; fold() decides for the rest.
    found = [r for r in rows if fold(r.last_name) in spans]
    if len(found) > 1:
        found = [r for r in found if fold(r.first_name) in spans] or found
    if len(found) == 1:
        return "8" + found[0].rpps, ""
    if not found:
        return "", f"médecin traitant « {text.strip()} » absent de l'annuaire : recherche sans lui"
    return "", (
        f"plusieurs médecins répondent à « {text.strip()} » : recherche sans médecin traitant"
    )


def search_context(
    s: Session, d: Dossier, task: OsnpTask | None
) -> tuple[SearchContext, list[str]]:
    notes: list[str] = []
    national_id, note = treating_doctor_national_id(s, d.treating_doctor)
    if note:
        notes.append(note)
    specialty = ""
    if task is not None:
        wanted = Wanted(task.profession, task.specialty)
        specialty = wanted.label
    number, street = split_street(d.address)
    if not (d.commune_insee or d.commune_name):
        notes.append("commune du patient non renseignée : la plateforme cherchera sans lieu")
    return (
        SearchContext(
            treating_doctor_national_id=national_id,
            specialty=specialty,
            street_number=number,
            street_name=street,
            insee_code=d.commune_insee,
            city=d.commune_name,
        ),
        notes,
    )


class PlatformSearchHandler:
    def __init__(self, service: HubService):
        self.service = service

    def __call__(self, u: Unit, i: AppointmentPlatformSearch) -> PlatformSearchReply:
        assert u.actor is not None
        intent = str(IntentName.APPOINTMENT_PLATFORM_SEARCH)
        d = audited_visible_dossier(u, i.dossier_id, intent)
        task = task_of(u, d)
        platform = self.service.settings.section(PlatformSettings)
        if platform is None:
            raise FlowError(
                "invalid_state",
                "plateforme SAS non configurée : section [plateforme_sas] (url, origine) "
                "du hub.toml",
            )
        ctx, notes = search_context(u.s, d, task)
        url = platform_search_url(platform.url, platform.origin, ctx)
        record_read(u.s, u.actor, u.actor.desk, d.id, str(IntentName.APPOINTMENT_PLATFORM_SEARCH),
                    at=u.now)  # fmt: skip
        return {"url": url, "notes": notes, "dossier_id": d.id}
