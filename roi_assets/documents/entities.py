"""Entities of a real-estate document from its text, each with a confidence.

Parties (buyer, seller, borrower, lender) come from labelled fields ("Buyer: ..."), signature
captions and the contract convention `Name ("Seller")`; grantors are sellers and grantees buyers.
The property address is found by shape and confirmed by usaddress's parser; parcel numbers by
their labels; sums of money by price-parser, typed by the nearest keyword before them (purchase
price, loan amount, or any other amount); interest rates by a percentage next to "interest" or
"rate"; dates from the three shapes a document writes them in (`parse_date`). Confidence
reflects how the entity was found: a labelled field is surer than a pattern in running text.

The text is first cleaned of recognition artefacts and line-break hyphenation
(`text_cleaning.text_for_entities`), and lines are joined before matching (OCR breaks lines where
the page did), so an address or a name split across two lines is still found.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

import usaddress
from price_parser import Price

from roi_assets.documents.text_cleaning import text_for_entities

ENTITY_TYPES: tuple[str, ...] = (
    "buyer",
    "seller",
    "borrower",
    "lender",
    "property_address",
    "parcel_number",
    "purchase_price",
    "loan_amount",
    "interest_rate",
    "amount",
    "key_date",
)

LABELLED = 0.9
IN_TEXT = 0.75
WEAK = 0.55


@dataclass(frozen=True)
class Entity:
    type: str
    value: str | float  # normalised: names and addresses as written, money in dollars, ISO dates
    text: str  # the span as it appears in the document
    confidence: float
    start: int
    role: str | None = None  # for dates: closing, effective, inspection, due, ...


_ROLE_TYPES = {
    "buyer": "buyer",
    "buyers": "buyer",
    "buyer(s)": "buyer",
    "purchaser": "buyer",
    "purchasers": "buyer",
    "grantee": "buyer",
    "grantees": "buyer",
    "seller": "seller",
    "sellers": "seller",
    "seller(s)": "seller",
    "grantor": "seller",
    "grantors": "seller",
    "borrower": "borrower",
    "borrowers": "borrower",
    "lender": "lender",
}
_ROLE_WORDS = (
    r"Buyer\(s\)|Buyers?|Purchasers?|Grantees?|Seller\(s\)|Sellers?|Grantors?|Borrowers?|Lender"
)
_LABEL_LINE = re.compile(
    rf"^[ \t]*(?P<role>{_ROLE_WORDS})[ \t]*:[ \t]*(?P<names>[^\n]+)$", re.MULTILINE | re.IGNORECASE
)
# A name: capitalised words, initials and company suffixes ("Evans Savings Bank, N.A.").
_NAME = r"[A-Z][A-Za-z'\-]*\.?(?:,? (?:[A-Z][A-Za-z'\-]*\.?|&|N\.A\.|LLC|Inc\.|of|and)){1,6}"
_QUOTED_ROLE = re.compile(
    rf"(?P<names>{_NAME})\s*\(\s*(?:the\s+)?[\"'“”]?(?P<role>{_ROLE_WORDS})[\"'“”]?\s*\)"
)
_IN_FAVOR_OF = re.compile(rf"in favou?r of (?P<names>{_NAME})")
_NAME_SPLIT = re.compile(r"\s+and\s+|\s*&\s*(?=[A-Z][a-z])|;\s*")

_ADDRESS = re.compile(
    r"\b\d{1,6}(?: [A-Z0-9#][A-Za-z0-9.'#-]*){1,7},(?: [A-Z][A-Za-z.'-]*){1,4}, [A-Z]{2} "
    r"\d{5}(?:-\d{4})?\b"
)
_ADDRESS_LABELS = re.compile(
    r"(property(?: address)?|situs address|unit address|located at|commonly known as|"
    r"covering the property at)\W*$",
    re.IGNORECASE,
)
_REQUIRED_ADDRESS_PARTS = {"AddressNumber", "StreetName", "PlaceName", "StateName", "ZipCode"}

_PARCEL = re.compile(
    r"(?:assessor'?s parcel number|parcel (?:number|no\.?|id)|tax parcel(?: no\.?)?|apn|parcel)"
    r"\s*[:#]?\s*(?P<parcel>[A-Z]?\d[\d-]{4,}\d)\b",
    re.IGNORECASE,
)

_MONEY = re.compile(r"\$\s?\d{1,3}(?:,\d{3})*(?:\.\d{2})?(?!\d)")
# the keyword nearest before an amount decides its type; "other" keywords stop a farther
# "purchase price" from claiming the earnest money that follows it
_MONEY_KEYWORDS = (
    (
        "purchase_price",
        re.compile(r"purchase price|sales? price|consideration of|price of", re.IGNORECASE),
    ),
    (
        "loan_amount",
        re.compile(
            r"loan amount|loan in the amount of|indebtedness in the amount of"
            r"|promises to pay|principal amount",
            re.IGNORECASE,
        ),
    ),
    (
        "amount",
        re.compile(
            r"deposit|fee|payment|charge|policy|listing price|dues|assessment|"
            r"installment|tax|balance|value|cost|estimate",
            re.IGNORECASE,
        ),
    ),
)
_MONEY_CONTEXT = 80

_RATE = re.compile(r"(?P<rate>\d{1,2}(?:\.\d{1,3})?)\s?%")
_RATE_CONTEXT = re.compile(
    r"interest|yearly rate|annual percentage|\bAPR\b|\brate\b", re.IGNORECASE
)

_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_DATE = re.compile(
    rf"\b(?:{_MONTHS}\.? \d{{1,2}}, \d{{4}}|\d{{1,2}}/\d{{1,2}}/\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}})\b"
)
_DATE_ROLES = (
    (
        "closing",
        re.compile(r"clos(?:e|ing)|possession|move date|service start|start date", re.IGNORECASE),
    ),
    ("effective", re.compile(r"effective|made on|dated|listing period", re.IGNORECASE)),
    ("inspection", re.compile(r"inspect", re.IGNORECASE)),
    ("payment", re.compile(r"due|beginning on|maturity|payment", re.IGNORECASE)),
    ("meeting", re.compile(r"meeting|held on", re.IGNORECASE)),
)
_MONTH_NUMBERS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}


_ABBREVIATIONS = {"n.a.", "inc.", "co.", "corp.", "jr.", "sr.", "ltd."}


def _clean_name(name: str) -> str:
    """Whitespace collapsed; a sentence's full stop after the name is not part of it."""
    tokens = name.strip(" ,;:\"'").split()
    for i, token in enumerate(tokens):
        is_initial = len(token) == 2 and token[0].isupper()
        if token.endswith(".") and not is_initial and token.lower() not in _ABBREVIATIONS:
            tokens = [*tokens[:i], token[:-1]]
            break
    return " ".join(tokens)


def _split_names(names: str) -> list[str]:
    cleaned = [_clean_name(part) for part in _NAME_SPLIT.split(names)]
    return [name for name in cleaned if len(name.split()) >= 2 or name.endswith(".")]


def _parties(text: str, flat: str) -> list[Entity]:
    found = []
    for match in _LABEL_LINE.finditer(text):
        entity_type = _ROLE_TYPES[match["role"].lower()]
        for name in _split_names(match["names"]):
            found.append(Entity(entity_type, name, match["names"], LABELLED, match.start()))
    for match in _QUOTED_ROLE.finditer(flat):
        entity_type = _ROLE_TYPES[match["role"].lower()]
        for name in _split_names(match["names"]):
            found.append(Entity(entity_type, name, match["names"], IN_TEXT, match.start()))
    for match in _IN_FAVOR_OF.finditer(flat):
        for name in _split_names(match["names"]):
            found.append(Entity("lender", name, match["names"], WEAK, match.start()))
    return found


def _addresses(flat: str) -> list[Entity]:
    found = []
    for match in _ADDRESS.finditer(flat):
        candidate = match.group()
        try:
            parts, kind = usaddress.tag(candidate)
        except usaddress.RepeatedLabelError:
            continue
        if kind != "Street Address" or not set(parts) >= _REQUIRED_ADDRESS_PARTS:
            continue
        labelled = _ADDRESS_LABELS.search(flat[max(0, match.start() - 40) : match.start()])
        found.append(
            Entity(
                "property_address",
                candidate,
                candidate,
                LABELLED if labelled else WEAK,
                match.start(),
            )
        )
    return found


def _parcels(flat: str) -> list[Entity]:
    return [
        Entity("parcel_number", m["parcel"], m.group(), LABELLED, m.start("parcel"))
        for m in _PARCEL.finditer(flat)
    ]


def _money(flat: str) -> list[Entity]:
    found = []
    for match in _MONEY.finditer(flat):
        amount = Price.fromstring(match.group()).amount_float
        if amount is None:
            continue
        before = flat[max(0, match.start() - _MONEY_CONTEXT) : match.start()]
        best_type, best_end = "amount", -1
        for entity_type, keyword in _MONEY_KEYWORDS:
            for hit in keyword.finditer(before):
                if hit.end() > best_end:
                    best_type, best_end = entity_type, hit.end()
        confidence = LABELLED if best_end >= 0 else IN_TEXT
        found.append(Entity(best_type, round(amount, 2), match.group(), confidence, match.start()))
    return found


def _rates(flat: str) -> list[Entity]:
    found = []
    for match in _RATE.finditer(flat):
        before = flat[max(0, match.start() - 60) : match.start()]
        if _RATE_CONTEXT.search(before) and not re.search(r"commission", before, re.IGNORECASE):
            value = round(float(match["rate"]), 3)
            found.append(Entity("interest_rate", value, match.group(), LABELLED, match.start()))
    return found


def parse_date(span: str) -> dt.date | None:
    """The date of a span `_DATE` matched ("March 5, 2025", "Mar. 5, 2025", "3/5/2025",
    "2025-03-05"), or None when it names no day of the calendar.

    Slashed dates are read month first, the US convention, and day first only when the month
    would exceed 12 ("13/01/2025"). Written by hand because the regular expression already fixed
    the shape: a general date parser (dateparser) took 70 % of the entity extraction's time, and
    it filled an impossible day or month with today's ("01/00/2024" became the 5th when run on a
    5th)."""
    try:
        if "/" in span:
            first, second, year = (int(part) for part in span.split("/"))
            month, day = (second, first) if first > 12 else (first, second)
        elif "-" in span:
            year, month, day = (int(part) for part in span.split("-"))
        else:
            name, day_text, year_text = span.replace(".", "").replace(",", "").split()
            month, day, year = _MONTH_NUMBERS[name[:3].lower()], int(day_text), int(year_text)
        return dt.date(year, month, day)
    except ValueError:
        return None


def _dates(flat: str) -> list[Entity]:
    found = []
    for match in _DATE.finditer(flat):
        parsed = parse_date(match.group())
        if parsed is None:
            continue
        before = flat[max(0, match.start() - 50) : match.start()]
        role = None
        nearest = -1
        for name, keyword in _DATE_ROLES:
            for hit in keyword.finditer(before):
                if hit.end() > nearest:
                    role, nearest = name, hit.end()
        found.append(
            Entity("key_date", parsed.isoformat(), match.group(), LABELLED, match.start(), role)
        )
    return found


def extract_entities(text: str) -> list[Entity]:
    """Every entity found in `text`, in order of appearance in the cleaned text (a value may
    appear more than once)."""
    text = text_for_entities(text)
    flat = text.replace("\n", " ")
    found = (
        _parties(text, flat)
        + _addresses(flat)
        + _parcels(flat)
        + _money(flat)
        + _rates(flat)
        + _dates(flat)
    )
    return sorted(found, key=lambda e: (e.start, e.type))


def entities_by_type(entities: Iterable[Entity]) -> dict[str, list[str | float]]:
    """One value per distinct entity, grouped by type (the shape of the simulator's truth)."""
    grouped: dict[str, list[str | float]] = {name: [] for name in ENTITY_TYPES}
    for entity in entities:
        if entity.value not in grouped[entity.type]:
            grouped[entity.type].append(entity.value)
    return grouped


def entities_json(entities: Iterable[Entity]) -> str:
    """JSON for `marts.document_classifications`: each distinct entity with its best confidence."""
    best: dict[tuple[str, str | float], Entity] = {}
    for entity in entities:
        key = (entity.type, entity.value)
        if key not in best or entity.confidence > best[key].confidence:
            best[key] = entity
    records = [
        {k: v for k, v in asdict(e).items() if k not in ("start",) and v is not None}
        for e in sorted(best.values(), key=lambda e: e.start)
    ]
    return json.dumps(records)


def _normalise(value: str | float) -> str | float:
    if isinstance(value, float | int):
        return round(float(value), 3)
    return " ".join(value.casefold().replace(",", " ").split())


@dataclass(frozen=True)
class EntityScore:
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        expected = self.true_positives + self.false_negatives
        return self.true_positives / expected if expected else 1.0


def score_entities(
    predicted: Iterable[Mapping[str, list]], truth: Iterable[Mapping[str, list]]
) -> dict[str, EntityScore]:
    """Precision and recall per entity type over documents, matching distinct normalised values."""
    counts = {name: [0, 0, 0] for name in ENTITY_TYPES}
    for found, expected in zip(predicted, truth, strict=True):
        for name in ENTITY_TYPES:
            got = {_normalise(v) for v in found.get(name, [])}
            want = {_normalise(v) for v in expected.get(name, [])}
            counts[name][0] += len(got & want)
            counts[name][1] += len(got - want)
            counts[name][2] += len(want - got)
    return {name: EntityScore(*c) for name, c in counts.items()}
