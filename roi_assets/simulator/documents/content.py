"""The building blocks of a simulated document and the entities each block states.

A document is a sequence of blocks (title, paragraph, key-value fields, table, checkboxes, signature
lines). Each block carries the true entities its text states, so when the writer drops optional
clauses to fit a page budget the ground truth drops exactly the entities that left with them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

DOCUMENT_TYPES: tuple[str, ...] = (
    "purchase_agreement",
    "listing_agreement",
    "disclosure_form",
    "inspection_report",
    "mortgage_docs",
    "title_docs",
    "tax_records",
    "hoa_docs",
    "other",
)

# Parties are lists of person or company names; amounts are floats in dollars; interest rates are
# percentages (6.125 means 6.125 %); dates are ISO strings. `amount` holds every stated sum of money
# that is neither the purchase price nor the loan amount.
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

Entities = tuple[tuple[str, str | float], ...]


@dataclass(frozen=True)
class Letterhead:
    """Organisation name and contact lines at the top of the first page, next to a drawn logo."""

    name: str
    lines: tuple[str, ...]
    entities: Entities = ()


@dataclass(frozen=True)
class Title:
    text: str
    entities: Entities = ()


@dataclass(frozen=True)
class Heading:
    text: str
    entities: Entities = ()


@dataclass(frozen=True)
class Paragraph:
    text: str
    entities: Entities = ()


@dataclass(frozen=True)
class Fields:
    """`Label: value` lines, as the header of a form."""

    pairs: tuple[tuple[str, str], ...]
    entities: Entities = ()


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    entities: Entities = ()


@dataclass(frozen=True)
class Checkboxes:
    """Form questions answered by ticking a box; the box is drawn, only the label is text."""

    items: tuple[tuple[str, bool], ...]
    entities: Entities = ()


@dataclass(frozen=True)
class Signatures:
    """Signature lines, each with the signer's role and printed name below it."""

    signers: tuple[tuple[str, str], ...]
    entities: Entities = ()


@dataclass(frozen=True)
class PageBreak:
    """The next block starts a new page: a bundle's next document, an addendum."""

    entities: Entities = ()


Block = (
    Letterhead | Title | Heading | Paragraph | Fields | Table | Checkboxes | Signatures | PageBreak
)


@dataclass(frozen=True)
class DocumentContent:
    """A document's text before layout: fixed opening and closing blocks around optional clauses.

    The writer keeps as many optional clauses as fit the page budget it drew (`blocks(k)`).
    """

    doc_type: str
    style: str
    head: tuple[Block, ...]
    optional: tuple[Block, ...]
    tail: tuple[Block, ...]
    meta: dict[str, str] = field(default_factory=dict)

    def blocks(self, n_optional: int | None = None) -> tuple[Block, ...]:
        kept = self.optional if n_optional is None else self.optional[:n_optional]
        return (*self.head, *kept, *self.tail)


def collect_entities(blocks: Iterable[Block]) -> dict[str, list[str | float]]:
    """The document's true entities: every entity type, values deduplicated in order of mention."""
    found: dict[str, list[str | float]] = {name: [] for name in ENTITY_TYPES}
    for block in blocks:
        for entity_type, value in block.entities:
            if value not in found[entity_type]:
                found[entity_type].append(value)
    return found


def entities_json(entities: dict[str, list[str | float]]) -> str:
    return json.dumps(entities, sort_keys=True)
