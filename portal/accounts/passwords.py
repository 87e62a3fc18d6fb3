"""What a new password must be (NIST SP 800-63B-4, OWASP ASVS 5.0 level 2).

- At least 15 characters (800-63B-4 for a password that is the only factor; ASVS 6.2.1
  strongly recommends it), at most 200; any characters, spaces included; no rules of
  composition and no expiry.
- Not a common or breached password: the list zxcvbn ships (the 30,000 most frequent of
  ten million leaked passwords, offline), nor one that zxcvbn finds is made only of such
  entries and simple patterns (repeats, sequences, keyboard rows, dates): score below 3.
- Not containing the person's own name or the local part of their e-mail address.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from flask_babel import gettext as _

from portal.errors import ServiceError

MIN_LENGTH = 15
MAX_LENGTH = 200
# zxcvbn's scores: 3 needs about 10^8 guesses or more ("safely unguessable" online).
MIN_ZXCVBN_SCORE = 3
# Parts of a name or address shorter than this are too common to refuse inside a password.
MIN_PERSONAL_PART = 4


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").casefold()


@functools.cache
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def is_common(password: str) -> bool:
    """On the list of common and breached passwords, or easily guessed from it."""
    folded = _fold(password)
    if folded in _common_passwords():
        return True
    from zxcvbn import zxcvbn

    # zxcvbn looks at the first 100 characters only (and needs no more to judge).
    return zxcvbn(password[:100])["score"] < MIN_ZXCVBN_SCORE


def personal_parts(email: str | None, name: str | None) -> set[str]:
    """What a password must not contain: the e-mail's local part, the name, and their
    parts of at least MIN_PERSONAL_PART characters."""
    parts: set[str] = set()
    local = _fold(email or "").partition("@")[0]
    for whole in (local, _fold(name or "")):
        words = [w for w in re.split(r"[\W_]+", whole) if w]
        if len("".join(words)) >= 3:
            parts.add("".join(words))
        parts.update(w for w in words if len(w) >= MIN_PERSONAL_PART)
    return parts


def contains_personal(password: str, email: str | None, name: str | None) -> bool:
    squeezed = re.sub(r"[\W_]+", "", _fold(password))
    return any(part in squeezed for part in personal_parts(email, name))


def check_length(password: str) -> None:
    if len(password or "") < MIN_LENGTH:
        raise ServiceError(_("The password must have at least %(n)d characters.", n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        raise ServiceError(_("The password may have at most %(n)d characters.", n=MAX_LENGTH))


def check_new_password(password: str, *, email: str | None, name: str | None) -> None:
    """Raise a ServiceError (translated) when the password may not be chosen."""
    check_length(password)
    if contains_personal(password, email, name):
        raise ServiceError(_("The password must not contain your name or your e-mail address."))
    if is_common(password):
        raise ServiceError(
            _(
                "This password is among commonly used or leaked passwords, or easy to guess "
                "from them. Choose another one, e.g. a few unrelated words."
            )
        )
