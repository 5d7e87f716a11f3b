"""The call-back plan: who the OSNP calls for a task, in order, computed from the dossier.

Seed 000's order: the patient's treating doctor (MT) first, then a colleague of the
same practice, then the effecteurs with published slots as the slot search ranks
them, then the doctors who accept patients beyond their slots; then the fallbacks
(teleconsultation, the duty doctor after 20h, the emergency department on the
regulating doctor's decision). The OSNP may reorder, skip with a reason, or add.

The plan follows whom the regulating doctor asked for (the task's profession and
specialty): the MT and his practice only where they are what was asked (always for
general practice; for a specialty, only an MT or confrère of that specialty); for
another profession (a nurse for a wound, a midwife) none of them, but the effecteurs of
that profession and the CPTS that serves the patient's commune.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.callback.models import CallbackTarget
from app.callback.vocab import TargetKind, TargetStatus
from app.db.models import OsnpTask
from app.directory.engine import DirectoryIndex
from app.directory.models import Effecteur, Structure
from app.directory.protocol import SearchSlot
from app.directory.query import (
    TIER_CONFRERE,
    TIER_MT,
    TIER_NONE,
    TIER_OTHER,
    TIER_SAS,
    DoctorHit,
    SearchQuery,
    SearchResult,
    fold,
)
from app.directory.vocab import PARIS, StructureKind
from app.domain.enums import ConsultationType
from app.domain.professions import DENTISTE, MEDECIN, Wanted
from app.domain.rules import FlowError

#: How many effecteurs with slots, and beyond slots, the plan lists (the panel's
#: search shows the rest).
MAX_WITH_SLOTS = 8
MAX_BEYOND = 5
SEARCH_LIMIT = 120

_NO_MT = re.compile(r"^(aucun|pas de|sans|neant|non|inconnu|ne sait pas|nsp|-+)\b")


def has_no_treating_doctor(text: str) -> bool:
    """ "no MT" is a valid answer: empty, or "aucun", "pas de MT", "sans MT"…"""
    folded = fold(text)
    return not folded or bool(_NO_MT.match(folded))


def _place(hit: DoctorHit) -> str:
    practices = hit.info.get("practices") or []
    if not practices:
        return ""
    p = practices[0]
    parts = [
        p.get("name", ""),
        p.get("address", ""),
        " ".join(x for x in (p.get("postal_code", ""), p.get("commune", "")) if x),
    ]
    return ", ".join(x for x in parts if x)


def _first_slot(hit: DoctorHit) -> SearchSlot | None:
    for day in hit.days:
        for slot in day["slots"]:
            return slot
    return None


def _from_hit(
    task: OsnpTask, kind: TargetKind, hit: DoctorHit, why: str, now: datetime
) -> CallbackTarget:
    info = hit.info
    absent_until = info.get("absent_until")
    if absent_until:
        until = datetime.fromisoformat(absent_until).astimezone(PARIS)
        why += f" — absent jusqu'au {until:%d/%m} ({info.get('absence_reason') or 'absence'})"
    t = CallbackTarget(
        task_id=task.id,
        kind=str(kind),
        status=str(TargetStatus.TO_CALL),
        effecteur_id=hit.effecteur_id,
        name=info.get("name", ""),
        phone_direct=info.get("phone_direct", ""),
        phone_secretary=info.get("phone_secretary", "") or info.get("structure_phone", ""),
        place=_place(hit),
        conditions=info.get("conditions", ""),
        distance_km=round(hit.distance_km, 1) if hit.distance_km is not None else None,
        why=why,
        created_at=now,
    )
    slot = _first_slot(hit) if kind is TargetKind.CRENEAU else None
    if slot is not None:
        t.slot_id = slot["id"]
        t.slot_start = datetime.fromisoformat(slot["start"])
        t.slot_type = slot["type"]
    return t


def _named(task: OsnpTask, kind: TargetKind, name: str, why: str, now: datetime) -> CallbackTarget:
    """A target known by its name only, not in the directory (a fallback, an MT to look up)."""
    return CallbackTarget(
        task_id=task.id,
        kind=str(kind),
        status=str(TargetStatus.TO_CALL),
        name=name,
        why=why,
        created_at=now,
    )


def _cpts(session: Session, task: OsnpTask, now: datetime) -> list[CallbackTarget]:
    """The CPTS serving the patient's commune: they organise the other professions."""
    insee = task.dossier.commune_insee
    if not insee:
        return []
    out = []
    for st in session.scalars(
        select(Structure).where(Structure.kind == str(StructureKind.CPTS)).order_by(Structure.id)
    ):
        if insee in (st.communes or []):
            why = "CPTS de la commune du patient : elle coordonne les autres professions"
            t = _named(task, TargetKind.CPTS, st.name, why, now)
            t.phone_secretary, t.place = st.snp_phone, st.address
            out.append(t)
    return out


def _fallbacks(task: OsnpTask, now: datetime) -> list[CallbackTarget]:
    out = []
    if task.consultation_type != ConsultationType.TELECONSULTATION:
        why = "si le motif s'y prête : proposer une téléconsultation au patient"
        out.append(_named(task, TargetKind.TELECONSULTATION, "Téléconsultation", why, now))
    if task.profession == DENTISTE:
        why = "dimanche et jours fériés : la garde dentaire du département"
        out.append(_named(task, TargetKind.PDSA, "Chirurgien-dentiste de garde", why, now))
    else:
        pdsa = "à partir de 20 h, la PDSA prend le relais"
        out.append(_named(task, TargetKind.PDSA, "Médecin de garde (PDSA)", pdsa, now))
    urgences = "uniquement sur décision du médecin régulateur"
    out.append(_named(task, TargetKind.URGENCES, "Service d'urgences", urgences, now))
    return out


def build_plan(
    session: Session, task: OsnpTask, index: DirectoryIndex, now: datetime
) -> tuple[list[CallbackTarget], list[str]]:
    """The targets for ``task`` (not yet added to the session) and notes for the OSNP."""
    d = task.dossier
    notes: list[str] = []
    wanted = Wanted(task.profession, task.specialty)
    no_mt = has_no_treating_doctor(d.treating_doctor)
    query = SearchQuery(
        commune_insee=d.commune_insee,
        types=(ConsultationType(task.consultation_type),),
        patient_age=d.patient_age,
        motif=d.motif,
        treating_doctor="" if no_mt else d.treating_doctor,
        limit=SEARCH_LIMIT,
        slots_per_day=1,
        profession=wanted.profession,
        specialty=wanted.specialty,
    )
    index.sync(session, now)
    result = index.search(query, now)
    notes.extend(w for w in result.warnings if "médecin traitant" not in w)
    targets: list[CallbackTarget] = []
    by_tier: dict[int, list[DoctorHit]] = {}
    for hit in result.doctors:
        by_tier.setdefault(hit.tier, []).append(hit)
    specialist = query.ranks_specialty
    if wanted.profession != MEDECIN:
        notes.append(
            f"le régulateur demande : {wanted.label} — ni médecin traitant ni confrère, "
            "les effecteurs de cette profession et la CPTS"
        )
    elif no_mt:
        notes.append("pas de médecin traitant déclaré : on commence par les effecteurs")
    elif specialist and not any(h.specialty_match == 2 for h in by_tier.get(TIER_MT, [])):
        notes.append(
            f"le régulateur demande : {wanted.label} — le médecin traitant n'est appelé "
            "que s'il l'est ; ajoutez-le au plan si besoin"
        )
    if wanted.profession == MEDECIN and not no_mt:
        targets.extend(_treating_doctor(task, by_tier, specialist, now))
    slots = [h for h in result.doctors if h.tier in (TIER_SAS, TIER_OTHER)]
    for hit in slots[:MAX_WITH_SLOTS]:
        why = "participant SAS, créneau publié" if hit.tier == TIER_SAS else "créneau publié"
        if specialist:
            why += (
                f" ({wanted.label.lower()})"
                if hit.specialty_match
                else f" (n'est pas {wanted.label.lower()})"
            )
        targets.append(_from_hit(task, TargetKind.CRENEAU, hit, why, now))
    if not slots:
        notes.append("aucun créneau publié dans le rayon : médecins hors disponibilité")
    targets.extend(_beyond_slots(task, result, {t.effecteur_id for t in targets}, now))
    if wanted.profession != MEDECIN:
        targets.extend(_cpts(session, task, now))
    targets.extend(_fallbacks(task, now))
    for position, t in enumerate(targets, start=1):
        t.position = position
    return targets, notes


def _treating_doctor(
    task: OsnpTask, by_tier: dict[int, list[DoctorHit]], specialist: bool, now: datetime
) -> list[CallbackTarget]:
    """The treating doctor (found in the directory, several alike, or to be typed in)
    and the confrères of the practice; for a specialty asked, only who practises it."""
    d = task.dossier
    targets: list[CallbackTarget] = []
    mts = [h for h in by_tier.get(TIER_MT, []) if not specialist or h.specialty_match == 2]
    ambiguous = len(mts) > 1
    for hit in mts:
        why = "médecin traitant (trouvé dans l'annuaire)"
        if ambiguous:
            why = (
                f"plusieurs médecins répondent à « {d.treating_doctor} » : "
                "vérifiez avec le patient avant d'appeler"
            )
        targets.append(_from_hit(task, TargetKind.MT, hit, why, now))
    if not mts and not specialist:
        why = (
            "médecin traitant absent de l'annuaire : "
            "cherchez son numéro (patient, annuaire santé) et saisissez-le"
        )
        targets.append(_named(task, TargetKind.MT, d.treating_doctor, why, now))
    for hit in by_tier.get(TIER_CONFRERE, []):
        if specialist and hit.specialty_match != 2:
            continue
        targets.append(
            _from_hit(
                task, TargetKind.CONFRERE, hit, "confrère du cabinet du médecin traitant", now
            )
        )
    return targets


def _beyond_slots(
    task: OsnpTask, result: SearchResult, seen: set[int | None], now: datetime
) -> list[CallbackTarget]:
    """Up to ``MAX_BEYOND`` doctors not already in the plan who accept patients beyond
    their published slots (and are not away)."""
    beyond = [
        h for h in result.doctors if h.tier == TIER_NONE and h.info.get("accepts_beyond_slots")
    ] + list(result.beyond_slots)
    targets: list[CallbackTarget] = []
    for hit in beyond:
        if hit.effecteur_id in seen or len(targets) >= MAX_BEYOND or hit.info.get("absent_until"):
            continue
        seen.add(hit.effecteur_id)
        targets.append(
            _from_hit(
                task,
                TargetKind.HORS_DISPO,
                hit,
                "accepte des patients en sus de ses disponibilités",
                now,
            )
        )
    return targets


def plan_of(session: Session, task_id: int) -> list[CallbackTarget]:
    return list(
        session.scalars(
            select(CallbackTarget)
            .where(CallbackTarget.task_id == task_id)
            .order_by(CallbackTarget.position, CallbackTarget.id)
        )
    )


def reorder(session: Session, task_id: int, order: list[int]) -> list[CallbackTarget]:
    """Put the listed targets first, in that order; the others keep theirs after them."""
    targets = plan_of(session, task_id)
    ids = {t.id for t in targets}
    unknown = [i for i in order if i not in ids]
    if unknown:
        raise FlowError("not_found", f"cible(s) {unknown} absente(s) du plan de cette tâche")
    if len(set(order)) != len(order):
        raise FlowError("invalid_message", "une cible apparaît deux fois dans l'ordre demandé")
    rank = {target_id: i for i, target_id in enumerate(order)}
    targets.sort(key=lambda t: (0, rank[t.id]) if t.id in rank else (1, t.position))
    for position, t in enumerate(targets, start=1):
        t.position = position
    return targets


def add_target(
    session: Session,
    task: OsnpTask,
    kind: TargetKind,
    now: datetime,
    *,
    user_id: int | None,
    effecteur_id: int | None = None,
    name: str = "",
    phone_direct: str = "",
    phone_secretary: str = "",
    place: str = "",
    position: int | None = None,
    why: str = "",
) -> CallbackTarget:
    """A target the OSNP adds (a doctor found elsewhere, the MT's number found…)."""
    if effecteur_id is not None:
        e = session.get(Effecteur, effecteur_id)
        if e is None:
            raise FlowError("not_found", f"effecteur {effecteur_id} introuvable dans l'annuaire")
        name = name or e.display_name
        phone_direct = phone_direct or e.phone_direct
        phone_secretary = phone_secretary or e.phone_secretary
        if not place and e.practices:
            p = e.practices[0]
            place = ", ".join(
                x for x in (p.name, p.address, f"{p.postal_code} {p.commune_name}".strip()) if x
            )
    if not name.strip():
        raise FlowError("invalid_message", "indiquez qui appeler (nom ou effecteur de l'annuaire)")
    targets = plan_of(session, task.id)
    last = max((t.position for t in targets), default=0)
    t = CallbackTarget(
        task_id=task.id,
        kind=str(kind),
        status=str(TargetStatus.TO_CALL),
        effecteur_id=effecteur_id,
        name=name.strip(),
        phone_direct=phone_direct,
        phone_secretary=phone_secretary,
        place=place,
        why=why or "ajouté par l'OSNP",
        added_by_id=user_id,
        created_at=now,
        position=last + 1,
    )
    session.add(t)
    session.flush()
    if position is not None:
        order = [x.id for x in targets]
        order.insert(max(0, min(position - 1, len(order))), t.id)
        reorder(session, task.id, order)
    return t


def next_target(targets: list[CallbackTarget], now: datetime) -> CallbackTarget | None:
    """Who to call now: the first target still to call, else a retry that is due."""
    for t in targets:
        if t.status == TargetStatus.TO_CALL:
            return t
    due = [
        t
        for t in targets
        if t.status in (TargetStatus.RETRY, TargetStatus.CALL_BACK)
        and (t.retry_at is None or t.retry_at <= now)
    ]
    return min(due, key=lambda t: (t.retry_at or now, t.position)) if due else None


def count_targets(session: Session, task_id: int) -> int:
    return int(
        session.scalar(
            select(func.count(CallbackTarget.id)).where(CallbackTarget.task_id == task_id)
        )
        or 0
    )
