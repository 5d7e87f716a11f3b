"""The editor's booking page for a slot: where « Réserver » sends the OSNP.

An editor whose agenda takes bookings from the SAS puts the address of the doctor's
booking page in ``Slot.comment`` (the guide's slot search, PS indiv / CPTS / SOS); the
platform adds ``origin=sas`` when it redirects, so the editor grants the regulator's
rights only to a user who came from the SAS. We do the same, and add nothing else: no
patient data ever travels in the address (it would sit in browser histories and logs).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

ORIGIN = ("origin", "sas")


def booking_page(comment: str) -> str | None:
    """The address to open for a slot whose comment carries a booking page, else None.

    Only an absolute http(s) address is a booking page (a comment may be free text);
    ``origin=sas`` replaces any ``origin`` the editor left in it.
    """
    text = comment.strip()
    if not text or any(c.isspace() for c in text):
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return None
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "origin"]
    query.append(ORIGIN)
    return urlunsplit(parts._replace(query=urlencode(query)))
