"""Every user-facing string has a Russian translation, and the compiled catalogue is current."""

import ast
import gettext
import re
from pathlib import Path

from django.conf import settings

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "ru" / "LC_MESSAGES" / "django.po"


def entries() -> list[str]:
    blocks = CATALOGUE.read_text(encoding="utf-8").split("\n\n")
    return [block for block in blocks[1:] if "msgid " in block and not block.startswith("#~")]


def translation_of(block: str) -> str:
    """The msgstr text (or the plural forms' texts) of one catalogue entry."""
    parts = re.split(r"^msgstr(?:\[\d\])? ", block, flags=re.M)[1:]
    return "".join("".join(re.findall(r'"(.*)"', part)) for part in parts)


def test_every_string_is_translated_into_russian():
    untranslated = [block for block in entries() if not translation_of(block)]
    assert untranslated == []


def test_no_translation_is_a_fuzzy_guess():
    fuzzy = [block for block in entries() if re.search(r"^#,.*\bfuzzy\b", block, flags=re.M)]
    assert fuzzy == []


def test_plural_entries_have_all_four_russian_forms():
    plural = [block for block in entries() if "msgid_plural" in block]
    incomplete = [block for block in plural if "msgstr[3] " not in block]
    assert incomplete == []


def po_text(block: str, keyword: str) -> str:
    match = re.search(rf"^{keyword} ((?:\".*\"\n?)+)", block, flags=re.M)
    return "".join(ast.literal_eval(line) for line in match[1].split("\n") if line)


def test_compiled_catalogue_matches_its_source():
    with CATALOGUE.with_suffix(".mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)._catalog
    singular = [block for block in entries() if "msgid_plural" not in block]
    stale = [
        catalogue_key(block)
        for block in singular
        if catalogue.get(catalogue_key(block)) != po_text(block, "msgstr")
    ]
    assert stale == []


def catalogue_key(block: str) -> str:
    """How gettext files an entry: its msgid, prefixed by its context when it has one."""
    if re.search(r"^msgctxt ", block, flags=re.M):
        return f"{po_text(block, 'msgctxt')}\x04{po_text(block, 'msgid')}"
    return po_text(block, "msgid")
