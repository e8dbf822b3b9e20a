"""Comparison keys for finding the same party twice: an uploaded address row against the parties we know.

The party replica stores these keys in its dedupe columns, so the functions must stay deterministic: changing
one means recomputing every stored key.
"""
from __future__ import annotations

import re
import unicodedata

DEFAULT_CALLING_CODE = "49"

# Tokens as they look after punctuation is gone ("G.m.b.H." -> "gmbh", "& Co." -> "co"). Only trailing ones are
# dropped, so "AG Bau" keeps its "ag"; "haftungsbeschrankt" is the tail of "UG (haftungsbeschränkt)".
LEGAL_FORM_TOKENS = frozenset({
    "gmbh", "mbh", "ag", "kg", "kgaa", "ohg", "ug", "haftungsbeschrankt", "gbr", "ev", "eg", "ek", "se",
    "co", "cie", "und", "and",
    "ltd", "limited", "inc", "incorporated", "corp", "corporation", "llc", "llp", "plc",
    "sa", "sarl", "sas", "bv", "nv",
})

# Letters NFKD does not split into base letter + accent.
_UNDECOMPOSABLE = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th",
                                 "ı": "i"})
# Joining, not spacing: "O'Brien" -> "obrien", "G.m.b.H." -> "gmbh".
_JOINING_PUNCTUATION = frozenset(".'’`´")

CALLING_CODES = {
    "DE": "49", "AT": "43", "CH": "41", "LI": "423", "NL": "31", "BE": "32", "LU": "352", "FR": "33", "IT": "39",
    "ES": "34", "PT": "351", "PL": "48", "CZ": "420", "SK": "421", "HU": "36", "DK": "45", "SE": "46", "NO": "47",
    "FI": "358", "GB": "44", "IE": "353", "US": "1", "CA": "1",
}

_PHONE_CHARACTERS = re.compile(r"^\+?[\d\s()./-]+$")
_TRUNK_ZERO_IN_BRACKETS = re.compile(r"\(\s*0\s*\)")   # "+49 (0)30 ..." : the 0 is dialled only nationally
_MIN_PHONE_DIGITS = 6
_MAX_PHONE_DIGITS = 15                                  # E.164
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def name_key(name: str | None) -> str:
    """Case, accents, punctuation, spacing and a company's legal form do not count: "Müller GmbH & Co. KG",
    "MULLER gmbh" and "müller" all give "muller"."""
    if not name:
        return ""
    folded = unicodedata.normalize("NFKD", name.casefold().translate(_UNDECOMPOSABLE))
    tokens = "".join(_plain_character(c) for c in folded if not unicodedata.combining(c)).split()
    while len(tokens) > 1 and tokens[-1] in LEGAL_FORM_TOKENS:
        tokens.pop()
    return " ".join(tokens)


def _plain_character(character: str) -> str:
    if character in _JOINING_PUNCTUATION:
        return ""
    if unicodedata.category(character)[0] in "PS":
        return " "
    return character


def postal_key(code: str | None) -> str:
    if not code:
        return ""
    return re.sub(r"[\s\-]+", "", code).upper()


def calling_code_for(country: str | None) -> str:
    """The code a national number ("030 ...") gets; unknown countries fall back to Germany's."""
    return CALLING_CODES.get((country or "").strip().upper(), DEFAULT_CALLING_CODE)


def phone_key(number: str | None, calling_code: str = DEFAULT_CALLING_CODE) -> str | None:
    """The number in international form as digits only ("+49 30 1234567", "0049 30 1234567" and "030 1234567"
    give "49301234567"); None for text that is not a phone number."""
    if not number:
        return None
    text = number.strip()
    if not _PHONE_CHARACTERS.match(text):
        return None
    digits = re.sub(r"\D", "", text)
    if len(digits) < _MIN_PHONE_DIGITS:
        return None
    if text.startswith("+"):
        international = re.sub(r"\D", "", _TRUNK_ZERO_IN_BRACKETS.sub("", text))
    elif digits.startswith("00"):
        international = digits[2:]
    elif digits.startswith("0"):
        international = calling_code + digits[1:]
    else:
        international = digits          # no trunk prefix: we cannot tell a local number from a foreign one
    return international if len(international) <= _MAX_PHONE_DIGITS else None


def email_key(address: str | None) -> str | None:
    if not address:
        return None
    key = address.strip().lower()
    return key if _EMAIL.match(key) else None


def dedupe_keys(name: str | None, postal_code: str | None, phone: str | None, email: str | None, *,
                calling_code: str = DEFAULT_CALLING_CODE) -> list[str]:
    """Two records are the same party when they share any of these keys: same name and postal code, and the
    same phone number or the same e-mail address."""
    name_part, postal_part = name_key(name), postal_key(postal_code)
    if not name_part or not postal_part:
        return []
    contacts = (phone_key(phone, calling_code), email_key(email))
    return [f"{name_part}|{postal_part}|{contact}" for contact in contacts if contact]
