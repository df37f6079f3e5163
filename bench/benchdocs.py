"""Writing a benchmark's results into its own section of docs/benchmarks.md."""

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def section_entry_write(*, section: str, intro: str, text: str, vendor: str) -> None:
    """Put `text` in `section`, replacing the earlier entry measured on the same database.

    An entry is a Markdown list item whose first line names the database as ", <vendor> ".
    Other sections of the file are left as they are.
    """
    docs = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Benchmarks\n"
    before, found, after = docs.partition(section)
    body, heading, rest = after.partition("\n## ")
    entries = re.split(r"\n(?=- )", body)  # an entry starts with "- " at the start of a line
    kept = [
        entry.strip("\n")
        for entry in entries
        if entry.startswith("- ") and f", {vendor} " not in entry.split("\n", 1)[0]
    ]
    new_section = f"{section}\n\n{intro}\n\n" + "\n".join([*kept, text]) + "\n"
    if heading:
        new_section += f"\n## {rest}"
    DOCS.write_text((before if found else docs.rstrip() + "\n\n") + new_section, encoding="utf-8")
