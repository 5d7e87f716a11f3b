"""PSC's ID token checks, one by one, on tokens signed by the PSC double's own key: a
token passes only with the right issuer, audience, signature, unexpired, and the nonce
sent (authorization code); a token signed by another key, or no token at all, is
refused."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from app.bench.psc_double import Person, PscDouble
from app.psc import tokens
from app.psc.claims import Professional, role_mismatch
from app.psc.errors import PscRefused
from app.psc.national_id import BadNationalId, check_national_id
from app.psc.pkce import loopback_redirect


@pytest.fixture(scope="module")
def psc() -> PscDouble:
    return PscDouble()  # not started: its key and JWKS are enough here


def signed(psc: PscDouble, **changes: Any) -> str:
    now = int(time.time())
    claims = {"iss": psc.issuer, "aud": psc.client_id, "sub": "s1", "iat": now,
              "exp": now + 300, "nonce": "n-1", **changes}  # fmt: skip
    return jwt.encode(claims, psc.key, algorithm="RS256", headers={"kid": psc.kid})


def check(psc: PscDouble, token: str, nonce: str | None = None) -> dict[str, Any]:
    return tokens.validate(
        token, psc.jwks(), issuer=psc.issuer, audience=psc.client_id, nonce=nonce
    )


def test_a_good_token_passes(psc: PscDouble) -> None:
    assert check(psc, signed(psc), nonce="n-1")["sub"] == "s1"


@pytest.mark.parametrize(
    ("changes", "nonce", "why"),
    [
        ({"iss": "https://faux-psc.example/auth/realms/esante-wallet"}, None, "Issuer"),
        ({"aud": "autre-logiciel"}, None, "Audience"),
        ({"exp": int(time.time()) - 120}, None, "Expired"),
        ({}, "autre-nonce", "nonce"),
    ],
)
def test_each_check_refuses(
    psc: PscDouble, changes: dict[str, Any], nonce: str | None, why: str
) -> None:
    with pytest.raises(PscRefused) as refused:
        check(psc, signed(psc, **changes), nonce=nonce)
    assert refused.value.code == "psc_invalid" and why in refused.value.why


def test_a_foreign_signature_and_garbage_are_refused(psc: PscDouble) -> None:
    now = int(time.time())
    claims = {"iss": psc.issuer, "aud": psc.client_id, "sub": "s1", "iat": now, "exp": now + 60}
    foreign = jwt.encode(claims, psc.other_key, algorithm="RS256", headers={"kid": psc.kid})
    with pytest.raises(PscRefused, match="vérifiée"):
        check(psc, foreign)
    with pytest.raises(PscRefused):
        check(psc, "pas.un.jeton")


def test_claims_map_professions_and_refuse_a_nurse_on_a_doctor_role() -> None:
    nurse = Professional.of(Person("800000000602", profession="60").userinfo("s"))
    assert nurse.national_id == "800000000602" and nurse.professions == ("60",)
    assert "Infirmier (code 60)" in role_mismatch("MRL", nurse)
    assert role_mismatch("OSNP", nurse) == ""
    doctor = Professional.of(Person("810001234567").userinfo("s"))
    assert role_mismatch("MEDECIN_AMU", doctor) == ""
    assert "aucune" in role_mismatch("MRL", Professional.of({"SubjectNameID": "810001234567"}))


def test_identifier_and_redirect_formats() -> None:
    assert check_national_id(" 8100 0123 4567 ") == "810001234567"
    assert check_national_id("0123456789") == "0123456789"
    for bad in ("10001234567", "910001234567", "8100012345678", "", "81000123456x"):
        with pytest.raises(BadNationalId):
            check_national_id(bad)
    assert loopback_redirect("http://127.0.0.1:53682/psc") == "http://127.0.0.1:53682/psc"
    for bad in ("https://127.0.0.1:1/x", "http://localhost:5/x", "http://127.0.0.1/x",
                "http://127.0.0.1:5/x?a=1"):  # fmt: skip
        with pytest.raises(ValueError, match="redirect_uri"):
            loopback_redirect(bad)
