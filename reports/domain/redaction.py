"""Redaction of free text before it is published: phone numbers, e-mail addresses, and the
reporter's own name where they wrote it.

Public copies of a report's description (the public dataset, the public API and pages) go
through `redact`; trusted partners and staff read the text as written. What is replaced:

- e-mail addresses → "[e-mail]";
- phone numbers → "[phone]": a run of digits, spaces, hyphens, parentheses and a leading
  "+" holding at least ten digits (+7 900 000-00-01, 8 (495) 123 45 67), or at least seven
  digits in groups joined by hyphens (123-45-67). Dates (08.09.2013), times, counts and
  ballot numbers written as plain digits stay;
- each word of the reporter's own full name (three letters or more), in any case, as a whole
  word → "[name]". Names of other people are not recognised: moderators read every published
  text when they verify an incident.
"""

import re
from collections.abc import Iterable

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w+])\+?\d[\d\s()\-]{5,}\d(?!\w)")
SHORTEST_NAME_PART = 3


def is_phone(candidate: str) -> bool:
    digits = sum(character.isdigit() for character in candidate)
    grouped = re.fullmatch(r"\d{2,4}(?:-\d{2,4}){2,}", candidate.strip())
    return digits >= 10 or (digits >= 7 and grouped is not None)


def redact(text: str, names: Iterable[str] = ()) -> str:
    """`text` with e-mail addresses, phone numbers and the words of `names` replaced."""
    text = EMAIL.sub("[e-mail]", text)
    text = PHONE.sub(lambda match: "[phone]" if is_phone(match[0]) else match[0], text)
    for name in names:
        for part in name.split():
            if len(part) >= SHORTEST_NAME_PART:
                text = re.sub(rf"(?<!\w){re.escape(part)}(?!\w)", "[name]", text, flags=re.I)
    return text
