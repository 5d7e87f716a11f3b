"""The password policy for new passwords (``sasdesk users``, any password change).

After the CNIL's 2022 recommendation on passwords (délibération n° 2022-100): at least
12 characters mixing three kinds (lower case, upper case, digits, symbols), or a
passphrase of 16 characters or more; never the account's name, never a common word
or an obvious repetition. Throttling (app.hub.throttle) does the rest. A rule of the
domain: the desk checks a new password as it is typed, the hub before it stores it.
"""

from __future__ import annotations

MIN_LENGTH = 12
PASSPHRASE_LENGTH = 16
MAX_LENGTH = 256  # what a login message accepts
#: Refused whatever their length once lower-cased (and the digits after them dropped).
COMMON = frozenset(
    {
        "motdepasse", "password", "azertyuiop", "qwertyuiop", "azerty", "qwerty", "soleil",
        "bonjour", "samu", "sasdesk", "regulation", "demo", "admin", "administrateur",
        "changeme", "123456789012", "abcdefghijkl", "urgence", "hopital", "superviseur",
    }
)  # fmt: skip


class WeakPassword(ValueError):
    """Refused by the policy; the message (French) says what to change."""


def _kinds(password: str) -> int:
    return sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


def check_new_password(password: str, username: str = "") -> None:
    """Raise WeakPassword if ``password`` may not be chosen for ``username``."""
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"mot de passe trop long (au plus {MAX_LENGTH} caractères)")
    if len(password) < MIN_LENGTH:
        raise WeakPassword(
            f"mot de passe trop court : au moins {MIN_LENGTH} caractères ({len(password)} donnés)"
        )
    if len(password) < PASSPHRASE_LENGTH and _kinds(password) < 3:
        raise WeakPassword(
            "mot de passe trop simple : mélangez au moins trois sortes de caractères "
            "(minuscules, majuscules, chiffres, symboles), ou choisissez une phrase de passe "
            f"d'au moins {PASSPHRASE_LENGTH} caractères"
        )
    folded = password.casefold()
    if len(username) >= 3 and username.casefold() in folded:
        raise WeakPassword("le mot de passe ne doit pas contenir l'identifiant du compte")
    if folded.rstrip("0123456789!?.*") in COMMON or folded in COMMON:
        raise WeakPassword("mot de passe trop courant : choisissez-en un autre")
    if len(set(folded)) < 6:
        raise WeakPassword("mot de passe trop répétitif : au moins 6 caractères différents")
