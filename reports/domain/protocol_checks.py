"""Protocol templates as data, their control relations, soft checks and derived figures.

A template (one per election, stored in `Election.protocol_template`) lists the numbered
lines of the final protocol, the candidates, the hard control relations a correct protocol
satisfies and the soft checks that real protocols occasionally fail (DOMAIN.md §6). Line keys
name what a line means (`voters`, `early`, `inside`, ...) so that derived figures work on every
form whatever its numbering. The shipped templates live in `protocol_templates/*.json`; the
same relations are evaluated in the browser by `static/reports/protocols/protocol-form.js`.

A relation is `left op right`, each side a sum of line keys; `-key` subtracts a line and
`*candidates` stands for every candidate's votes.
"""

import json
import operator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.utils.translation import get_language
from django.utils.translation import gettext as _

TEMPLATE_DIR = Path(__file__).resolve().parent / "protocol_templates"
TEMPLATE_FILES = {
    "federal-18": "federal_18.json",
    "federal-12": "federal_12.json",
    "moscow-2013": "moscow_2013.json",
}
CANDIDATES = "*candidates"
OPERATORS = {"=": operator.eq, ">=": operator.ge, "<=": operator.le}
SYMBOLS = {"=": "=", ">=": "≥", "<=": "≤"}
# Bounds of a station's protocol unless its template says otherwise (`max_voters`,
# `max_received`): no line above the ballots the station received (and found unaccounted).
MAX_VOTERS = 10_000
RECEIVED_PER_VOTER_LIMIT = 4


@cache
def _template_file(key: str) -> str:
    return (TEMPLATE_DIR / TEMPLATE_FILES[key]).read_text(encoding="utf-8")


@cache
def shipped_template(key: str) -> dict:
    """A shipped template as read; not to be changed (template_load gives a copy)."""
    return json.loads(_template_file(key)) if key in TEMPLATE_FILES else {}


def template_load(key: str, candidates: list[str] = ()) -> dict:
    """A fresh copy of a shipped template, with candidates numbered after the last line."""
    data = json.loads(_template_file(key))
    if candidates:
        first = int(data["lines"][-1]["number"]) + 1
        data["candidates"] = [
            {"key": f"c{index}", "number": str(first + index - 1), "name": name}
            for index, name in enumerate(candidates, start=1)
        ]
    return data


def failure_text() -> str:
    return _("%(relation)s does not hold: %(left)s against %(right)s")


@dataclass(frozen=True)
class Outcome:
    """One relation or soft check that did not hold, with the lines it involves."""

    key: str
    lines: tuple[str, ...]
    left: int
    op: str
    right: int
    text: str

    @property
    def message(self) -> str:
        return failure_text() % {
            "relation": self.text,
            "left": self.left,
            "right": self.right,
        }

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "lines": list(self.lines),
            "left": self.left,
            "right": self.right,
            "message": self.message,
        }


@dataclass(frozen=True)
class Check:
    outcomes_failed: tuple[Outcome, ...]
    outcomes_warned: tuple[Outcome, ...]

    @property
    def ok(self) -> bool:
        return not self.outcomes_failed

    @property
    def failure_keys(self) -> list[str]:
        return [outcome.key for outcome in self.outcomes_failed]

    @property
    def warning_keys(self) -> list[str]:
        return [outcome.key for outcome in self.outcomes_warned]


class ProtocolTemplate:
    """A template dict with the questions the code asks of it."""

    def __init__(self, data: dict):
        if not data.get("lines"):
            raise ValueError("a protocol template needs lines")
        self.data = data
        self.lines: list[dict] = data["lines"]
        self.candidates: list[dict] = data.get("candidates", [])
        self.fields: list[dict] = self.lines + self.candidates
        self.keys: list[str] = [field["key"] for field in self.fields]
        self.line_keys: list[str] = [line["key"] for line in self.lines]
        self.candidate_keys: list[str] = [candidate["key"] for candidate in self.candidates]
        self._by_key = {field["key"]: field for field in self.fields}
        # Relations with their sides expanded once: checking 100,000 rows stays fast.
        self.relations = [self.compiled(relation) for relation in data["relations"]]
        self.soft_checks = [self.compiled(check) for check in data.get("soft_checks", [])]
        # A form stored before names and bounds were added to the shipped file takes them there.
        shipped = shipped_template(data.get("key", ""))
        self.shipped_lines = {line["key"]: line for line in shipped.get("lines", [])}
        self.max_voters = data.get("max_voters") or shipped.get("max_voters") or MAX_VOTERS
        self.max_received = (
            data.get("max_received")
            or shipped.get("max_received")
            or self.max_voters * RECEIVED_PER_VOTER_LIMIT
        )
        self.fixed_limits = {
            key: self.max_voters
            for key in self.line_keys
            if key == "voters" or key.startswith("cert_")
        } | {key: self.max_received for key in ("received", "unaccounted")}

    def compiled(self, relation: dict) -> tuple[dict, list, list]:
        return relation, self.terms(relation["left"]), self.terms(relation["right"])

    def __contains__(self, key: str) -> bool:
        return key in self._by_key

    @property
    def title(self) -> str:
        return self.data.get(f"title_{language()}") or self.data.get("key", "")

    def number(self, key: str) -> str:
        return self._by_key[key]["number"]

    def label(self, key: str) -> str:
        field = self._by_key[key]
        return field.get("name") or field.get(language()) or field.get("en", key)

    def column_names(self, key: str) -> list[str]:
        """Every header a file may give this line or candidate: its number, its names, the
        header it had in the file the election was created from, and the CEC's spellings."""
        field = self._by_key[key]
        shipped = self.shipped_lines.get(key, {})
        names = [field["number"], field.get("name"), field.get("header"), field.get("ru")]
        names += [field.get("en"), *field.get("aliases", ()), *shipped.get("aliases", ())]
        return [name for name in names if name]

    def over_limits(self, values: dict[str, int]) -> list[tuple[str, int]]:
        """The lines above the most they may hold, with that most: voters (and absentee
        certificates) within `max_voters`, ballots received and found unaccounted within
        `max_received`, every other line within the ballots received and unaccounted."""
        if "received" in values:
            ballots = values["received"] + values.get("unaccounted", 0)
        else:
            ballots = self.max_received
        fixed = self.fixed_limits
        return [
            (key, limit)
            for key, value in values.items()
            if value > (limit := fixed.get(key, ballots))
        ]

    def terms(self, side: list[str]) -> list[tuple[int, str]]:
        """Expand one side of a relation into (sign, line key) pairs present in this form."""
        expanded = []
        for term in side:
            if term == CANDIDATES:
                expanded += [(1, key) for key in self.candidate_keys]
            elif term.startswith("-"):
                expanded.append((-1, term[1:]))
            else:
                expanded.append((1, term))
        return [(sign, key) for sign, key in expanded if key in self]

    def side_text(self, side: list[str]) -> str:
        if side == [CANDIDATES]:
            return _("the sum of the candidates' votes")
        text = ""
        for sign, key in self.terms(side):
            number = self.number(key)
            text += (f" − {number}" if sign < 0 else f" + {number}") if text else number
        return text

    def relation_text(self, relation: dict) -> str:
        left = self.side_text(relation["left"])
        right = self.side_text(relation["right"])
        return _("line %(left)s %(op)s %(right)s") % {
            "left": left,
            "op": SYMBOLS[relation["op"]],
            "right": right,
        }

    def involved(self, relation: dict) -> tuple[str, ...]:
        keys = self.terms(relation["left"]) + self.terms(relation["right"])
        return tuple(self.number(key) for _sign, key in keys)

    def evaluate(self, compiled: tuple[dict, list, list], values: dict[str, int]) -> Outcome | None:
        relation, left_terms, right_terms = compiled
        left = sum(sign * values[key] for sign, key in left_terms)
        right = sum(sign * values[key] for sign, key in right_terms)
        if OPERATORS[relation["op"]](left, right):
            return None
        return Outcome(
            key=relation["key"],
            lines=self.involved(relation),
            left=left,
            op=relation["op"],
            right=right,
            text=self.relation_text(relation),
        )

    def check(self, values: dict[str, int]) -> Check:
        """Evaluate every hard relation and soft check on complete line values."""
        failed = (self.evaluate(relation, values) for relation in self.relations)
        warned = (self.evaluate(check, values) for check in self.soft_checks)
        return Check(
            outcomes_failed=tuple(outcome for outcome in failed if outcome),
            outcomes_warned=tuple(outcome for outcome in warned if outcome),
        )

    def missing(self, values: dict[str, int | None]) -> list[str]:
        return [key for key in self.keys if values.get(key) is None]

    def for_browser(self) -> dict:
        """What the live check in the browser needs: numbers, relations and their texts."""
        return {
            "failure_text": failure_text(),
            "fields": {field["key"]: field["number"] for field in self.fields},
            "candidates": self.candidate_keys,
            "relations": [
                dict(relation, text=self.relation_text(relation))
                for relation in self.data["relations"]
            ],
            "soft_checks": [
                dict(check, text=self.relation_text(check))
                for check in self.data.get("soft_checks", [])
            ],
        }


def election_template(election) -> ProtocolTemplate:
    """The protocol form of an election; ValueError when it has none yet."""
    return ProtocolTemplate(election.protocol_template)


def language() -> str:
    return "ru" if (get_language() or "ru").startswith("ru") else "en"


@dataclass(frozen=True)
class Figures:
    """Derived figures of one protocol or of a sum of protocols (DOMAIN.md §6)."""

    voters: int
    issued: int
    in_boxes: int
    outside: int
    votes: dict[str, int]

    @classmethod
    def of(cls, template: ProtocolTemplate, values: dict[str, int]) -> "Figures":
        def line(key: str) -> int:
            return values.get(key) or 0

        return cls(
            voters=line("voters"),
            issued=line("early") + line("inside") + line("outside"),
            in_boxes=line("invalid") + line("valid"),
            outside=line("outside"),
            votes={key: line(key) for key in template.candidate_keys},
        )

    @property
    def turnout(self) -> float | None:
        return self.issued / self.voters if self.voters else None

    @property
    def home_share(self) -> float | None:
        return self.outside / self.issued if self.issued else None

    @property
    def shares(self) -> dict[str, float | None]:
        """Votes over ballots in boxes, invalid included (the commission's convention)."""
        return {
            key: (votes / self.in_boxes if self.in_boxes else None)
            for key, votes in self.votes.items()
        }

    def as_dict(self) -> dict:
        return {
            "voters": self.voters,
            "ballots_issued": self.issued,
            "ballots_in_boxes": self.in_boxes,
            "issued_outside": self.outside,
            "turnout": self.turnout,
            "home_voting_share": self.home_share,
            "votes": self.votes,
            "shares": self.shares,
        }
