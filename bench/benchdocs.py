"""Writing a benchmark's results into its own section of docs/benchmarks.md.

A section runs from its "## " heading to the next one; other sections are left as they are.
"""

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def section_read(section: str) -> str | None:
    """The body of `section` (without its heading), or None when the file has no such section."""
    docs = DOCS.read_text(encoding="utf-8") if DOCS.exists() else ""
    _before, found, after = docs.partition(section + "\n")
    if not found:
        return None
    return after.partition("\n## ")[0].strip("\n")


def section_replace(section: str, body: str) -> None:
    """Make `body` the whole of `section`, adding the section at the end if it is new."""
    docs = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Benchmarks\n"
    new = f"{section}\n\n{body.strip(chr(10))}\n"
    before, found, after = docs.partition(section + "\n")
    if not found:
        DOCS.write_text(docs.rstrip("\n") + "\n\n" + new, encoding="utf-8")
        return
    _body, heading, rest = after.partition("\n## ")
    DOCS.write_text(before + new + (f"\n## {rest}" if heading else ""), encoding="utf-8")


def section_entry_write(*, section: str, intro: str, text: str, vendor: str) -> None:
    """Put `text` in `section`, replacing the earlier entry measured on the same database.

    An entry is a Markdown list item whose first line names the database as ", <vendor> ".
    """
    entries = re.split(r"\n(?=- )", section_read(section) or "")
    kept = [
        entry.strip("\n")
        for entry in entries
        if entry.startswith("- ") and f", {vendor} " not in entry.split("\n", 1)[0]
    ]
    section_replace(section, f"{intro}\n\n" + "\n".join([*kept, text]))
