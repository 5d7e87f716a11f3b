"""The national platform's search opened from a dossier (the guide's INT_L01).

The platform's search page (``/sas/recherche``) reads, when called from a regulation
software (``ansforge/SAS-moteur-recherche`` at commit e951be9eecfa: SasSearchController,
SasSearchHelper::getValidAddressData, the Vue store useLrmData):

- ``origin``: the regulation software's assigning authority as registered with the
  platform (an unknown one is refused with a message), from the configuration;
- ``practitioner``: the treating doctor, normed as ``urn:oid:1.2.250.1.71.4.2.1|8…``
  (RPPS with its "8"); absent when the patient has none known;
- ``specialty``: a label or ``urn:oid:…|code``; the page's script reads ``specialty``
  (its server-side cache keys list ``speciality``: we send what the page reads);
- ``streetnumber``, ``streetname``, ``inseecode``, ``city``: the patient's address, the
  city being the fallback when the INSEE code is unknown to the platform.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

NATIONAL_ID_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"


@dataclass(frozen=True)
class SearchContext:
    """What the dossier knows that the platform's search can use."""

    treating_doctor_national_id: str = ""
    specialty: str = ""
    street_number: str = ""
    street_name: str = ""
    insee_code: str = ""
    city: str = ""


def platform_search_url(base_url: str, origin: str, ctx: SearchContext) -> str:
    """The address of the platform's search for this dossier, empty parameters left out."""
    if not base_url.startswith(("https://", "http://")):
        raise ValueError(f"adresse de la plateforme SAS invalide : {base_url!r}")
    if not origin.strip():
        raise ValueError("l'origine (autorité d'affectation du logiciel) n'est pas configurée")
    practitioner = (
        f"{NATIONAL_ID_SYSTEM}|{ctx.treating_doctor_national_id}"
        if ctx.treating_doctor_national_id
        else ""
    )
    params = [
        ("origin", origin.strip()),
        ("practitioner", practitioner),
        ("specialty", ctx.specialty),
        ("streetnumber", ctx.street_number),
        ("streetname", ctx.street_name),
        ("inseecode", ctx.insee_code),
        ("city", ctx.city),
    ]
    query = urlencode([(k, v) for k, v in params if v])
    return f"{base_url.rstrip('/')}/sas/recherche?{query}"
