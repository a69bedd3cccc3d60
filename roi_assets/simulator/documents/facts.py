"""The facts of one simulated transaction, and the formatting that records them as ground truth.

Every type of document describes a transaction: who buys and sells, the property, the price, the
loan, the dates. The facts are drawn once per document (Faker en_US, seeded), and the `Recorder`
formats each value the way the document's issuer writes it while noting the true entity, so the
ground truth is exactly what the text states.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from faker import Faker

from roi_assets.simulator.documents.content import Entities

LENDER_SUFFIXES = (
    "Mortgage",
    "Home Loans",
    "Bank, N.A.",
    "Federal Credit Union",
    "Savings Bank",
    "Lending Group, LLC",
    "Mortgage Company",
)
TITLE_SUFFIXES = ("Title Company", "Title & Escrow, LLC", "Land Title Agency", "Abstract & Title")
BROKERAGE_SUFFIXES = (
    "Realty",
    "Real Estate Group",
    "Properties",
    "Homes & Land",
    "Realty Partners",
)
LOAN_TYPES = ("conventional", "FHA", "VA", "jumbo", "USDA")
# Assessor's parcel numbers are written differently in every county.
PARCEL_PATTERNS = ("###-###-###", "##-##-###-###", "####-###-##-####", "###-####-##", "R#########")
DATE_STYLES = ("long", "numeric", "abbreviated")


@dataclass(frozen=True)
class Transaction:
    """One property changing hands, with its financing and its calendar."""

    buyers: tuple[str, ...]
    sellers: tuple[str, ...]
    street: str
    city: str
    state: str
    state_name: str
    zip_code: str
    county: str
    parcel: str
    price: float
    earnest: float
    loan: float
    rate: float
    term_years: int
    loan_type: str
    lender: str
    title_company: str
    brokerage: str
    agent: str
    inspector: str
    effective_date: dt.date
    inspection_date: dt.date
    closing_date: dt.date
    first_payment_date: dt.date

    @property
    def address(self) -> str:
        return f"{self.street}, {self.city}, {self.state} {self.zip_code}"


def _person(fake: Faker, rng: np.random.Generator) -> str:
    if rng.random() < 0.2:
        return f"{fake.first_name()} {fake.random_uppercase_letter()}. {fake.last_name()}"
    return f"{fake.first_name()} {fake.last_name()}"


def _people(fake: Faker, rng: np.random.Generator) -> tuple[str, ...]:
    """One or two people; couples often share a last name."""
    first = _person(fake, rng)
    if rng.random() < 0.55:
        return (first,)
    if rng.random() < 0.6:
        return (first, f"{fake.first_name()} {first.split()[-1]}")
    return (first, _person(fake, rng))


def _parcel(rng: np.random.Generator) -> str:
    pattern = PARCEL_PATTERNS[rng.integers(len(PARCEL_PATTERNS))]
    return "".join(str(rng.integers(10)) if c == "#" else c for c in pattern)


def _round_to(value: float, step: float) -> float:
    return float(round(value / step) * step)


def draw_transaction(fake: Faker, rng: np.random.Generator) -> Transaction:
    state = fake.state_abbr(include_territories=False, include_freely_associated_states=False)
    price = _round_to(float(np.exp(rng.normal(np.log(420_000), 0.5))), 500)
    price = min(max(price, 85_000.0), 3_500_000.0)
    down = float(rng.choice([0.035, 0.05, 0.1, 0.2, 0.25]))
    effective = dt.date(2023, 1, 1) + dt.timedelta(days=int(rng.integers(0, 900)))
    closing = effective + dt.timedelta(days=int(rng.integers(25, 60)))
    first_payment = (closing.replace(day=1) + dt.timedelta(days=62)).replace(day=1)
    return Transaction(
        buyers=_people(fake, rng),
        sellers=_people(fake, rng),
        street=fake.street_address(),
        city=fake.city(),
        state=state,
        state_name=_STATE_NAMES[state],
        zip_code=fake.zipcode_in_state(state),
        county=f"{fake.last_name()} County",
        parcel=_parcel(rng),
        price=price,
        earnest=_round_to(price * float(rng.uniform(0.01, 0.03)), 500),
        loan=_round_to(price * (1 - down), 100),
        rate=float(rng.integers(36, 66)) * 0.125,
        term_years=int(rng.choice([15, 20, 30, 30, 30])),
        loan_type=LOAN_TYPES[rng.integers(len(LOAN_TYPES))],
        lender=f"{fake.last_name()} {LENDER_SUFFIXES[rng.integers(len(LENDER_SUFFIXES))]}",
        title_company=f"{fake.last_name()} {TITLE_SUFFIXES[rng.integers(len(TITLE_SUFFIXES))]}",
        brokerage=f"{fake.last_name()} {BROKERAGE_SUFFIXES[rng.integers(len(BROKERAGE_SUFFIXES))]}",
        agent=_person(fake, rng),
        inspector=_person(fake, rng),
        effective_date=effective,
        inspection_date=effective + dt.timedelta(days=int(rng.integers(3, 12))),
        closing_date=closing,
        first_payment_date=first_payment,
    )


class Recorder:
    """Formats values in one document's house style and remembers the entities it wrote.

    Blocks are built from f-strings whose values pass through these methods; `take()` hands the
    entities noted since the last block to the block being built.
    """

    def __init__(self, rng: np.random.Generator) -> None:
        self.date_style = DATE_STYLES[rng.integers(len(DATE_STYLES))]
        self.cents = bool(rng.random() < 0.5)
        self._pending: list[tuple[str, str | float]] = []

    def take(self) -> Entities:
        taken, self._pending = tuple(self._pending), []
        return taken

    def note(self, entity_type: str, value: str | float) -> None:
        self._pending.append((entity_type, value))

    def money(self, value: float, kind: str = "amount") -> str:
        self.note(kind, round(float(value), 2))
        if self.cents or value != int(value):
            return f"${value:,.2f}"
        return f"${value:,.0f}"

    def rate(self, value: float) -> str:
        self.note("interest_rate", round(float(value), 3))
        return f"{value:.3f}%"

    def date(self, value: dt.date) -> str:
        self.note("key_date", value.isoformat())
        if self.date_style == "numeric":
            return f"{value.month:02d}/{value.day:02d}/{value.year}"
        if self.date_style == "abbreviated":
            return f"{value:%b}. {value.day}, {value.year}".replace("May.", "May")
        return f"{value:%B} {value.day}, {value.year}"

    def parties(self, role: str, names: tuple[str, ...]) -> str:
        for name in names:
            self.note(role, name)
        return " and ".join(names)

    def address(self, transaction: Transaction) -> str:
        self.note("property_address", transaction.address)
        return transaction.address

    def parcel(self, transaction: Transaction) -> str:
        self.note("parcel_number", transaction.parcel)
        return transaction.parcel


_STATE_NAMES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
    "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia",
    "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
}  # fmt: skip
