"""What the desk says about Pro Santé Connect (PSC), in French: the hub's refusals, how a
session was proven, the room's policy per role, the time left to approve."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.client.hub_client import HubError
from app.domain.enums import Role
from app.hub.payloads import PscFallback

#: The hub's PSC error codes (docs/protocol.md), said for the person at the desk.
REFUSALS = {
    "psc_denied": "Connexion refusée sur votre téléphone ou votre lecteur CPS.",
    "psc_expired": (
        "Le code n'a pas été validé à temps : recommencez et validez-le sur votre "
        "téléphone ou votre lecteur CPS."
    ),
    "psc_invalid": (
        "La réponse de Pro Santé Connect n'a pas pu être vérifiée : connexion refusée. "
        "Recommencez ; si cela se reproduit, prévenez le superviseur."
    ),
    "psc_no_account": (
        "Aucun compte sasdesk actif ne porte cet identifiant national : vérifiez-le, ou "
        "demandez à l'administrateur de l'ajouter à votre compte."
    ),
    "disconnected": "La connexion au hub est perdue : réessayez dans un instant.",
    "timeout": "Le hub n'a pas répondu à temps : réessayez.",
}
#: Codes whose message from the hub already says why, in French.
HUB_SAYS = {"psc_role_mismatch", "bad_request", "forbidden", "not_found", "invalid_message"}

UNAVAILABLE = "Pro Santé Connect ne répond pas."
FALLBACK = (
    "Vous pouvez vous connecter avec votre mot de passe sasdesk en indiquant le motif : "
    "la connexion est enregistrée et le superviseur en est informé."
)
NO_FALLBACK = "La salle n'autorise pas d'autre connexion pour ce rôle : prévenez le superviseur."
REASON_LABEL = "Motif de la connexion sans Pro Santé Connect"
REQUIRED = "Ce compte se connecte avec Pro Santé Connect : saisissez votre identifiant national."

#: How a session was proven (the login reply's ``auth``).
AUTH = {
    "password": "mot de passe",
    "psc": "Pro Santé Connect",
    "password_fallback": "mot de passe sans Pro Santé Connect (motif déclaré)",
}
POLICY = {"must": "obligatoire", "may": "possible"}


def refusal(exc: HubError) -> str:
    """Why PSC did not log this person in; the fallback is said by the caller."""
    if exc.code == "psc_unavailable":
        allowed = exc.reply.get("fallback") == "password_with_reason"
        return f"{UNAVAILABLE} {FALLBACK if allowed else NO_FALLBACK}"
    if exc.code == "psc_role_mismatch":
        return f"Connexion refusée : {exc.message}"
    if exc.code in HUB_SAYS and exc.message:
        return exc.message
    return REFUSALS.get(exc.code) or exc.message or f"Connexion refusée ({exc.code})."


def fallback_allowed(exc: HubError) -> bool:
    return exc.code == "psc_unavailable" and exc.reply.get("fallback") == "password_with_reason"


def role_policy(psc: dict[str, Any], role: str) -> str:
    """The rule for ``role`` in the welcome's ``psc``: "must", "may" or "password"."""
    if not psc.get("enabled"):
        return "password"
    return str((psc.get("roles") or {}).get(role, "password"))


def policy_summary(psc: dict[str, Any]) -> str:
    """« Pro Santé Connect obligatoire pour : …  Possible pour : … » (the room's rules)."""
    lines = []
    for level in ("must", "may"):
        roles = [
            Role(r).label
            for r, wanted in (psc.get("roles") or {}).items()
            if wanted == level and r in Role.__members__
        ]
        if roles:
            lines.append(f"Pro Santé Connect {POLICY[level]} pour : {', '.join(sorted(roles))}.")
    return "\n".join(lines)


def code_text(binding_message: str) -> str:
    return f"Code à vérifier sur votre téléphone ou lecteur CPS : {binding_message}"


def time_left(seconds: float) -> str:
    if seconds <= 0:
        return "Délai écoulé : en attente de la réponse de Pro Santé Connect…"
    whole = int(seconds + 0.999)
    minutes, secs = divmod(whole, 60)
    left = f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"
    return f"Temps restant : {left} — Échap pour annuler"


def account_text(user: Mapping[str, Any], auth: str) -> str:
    """The account view: who is logged in here, their national identifier, how proven."""
    text = f"{user.get('name', '')} ({user.get('username', '')})"  # the role: window title
    if user.get("national_id"):
        text += f" — identifiant national {user['national_id']}"
    if user.get("platform_id"):
        text += f" — identifiant plateforme SAS {user['platform_id']}"
    if auth:
        text += f" — connecté par {AUTH.get(auth, auth)}"
    return text


def fallback_alert(data: PscFallback) -> str:
    """The supervisor's alert: someone who must use PSC came in with a password."""
    role = data["role"]
    label = Role(role).label if role in Role.__members__ else role
    where = f" au poste {data['desk']}" if data["desk"] else ""
    return (
        f"Connexion sans Pro Santé Connect : {data['name'] or data['username'] or '?'} "
        f"({label}){where} — motif : {data['reason'] or '?'}"
    )
