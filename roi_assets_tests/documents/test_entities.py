"""Entity extraction finds what a real-estate document states, typed and with a confidence."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from roi_assets.documents.entities import (
    ENTITY_TYPES,
    entities_by_type,
    entities_json,
    extract_entities,
    parse_date,
    score_entities,
)
from roi_assets.simulator.documents.writer import simulate_document

CONTRACT = """RESIDENTIAL PURCHASE AGREEMENT
This agreement is made on 02/14/2024 between Ann Lee and Bob
Lee ("Buyer") and Carla M. Diaz ("Seller") for the real property located at
1200 Oak Ridge Drive Apt. 4, Springfield, IL 62704 (the "Property"), Assessor's Parcel
Number 123-456-789, together with all fixtures.
PURCHASE PRICE. Buyer agrees to pay the total purchase price of $425,000.00, payable as
follows: an earnest money deposit of $8,500.00 within three (3) business days.
FINANCING. Buyer shall obtain a conventional loan in the amount of $340,000.00 at an interest
rate not to exceed 6.125% for a term of 30 years.
COMPENSATION. Seller agrees to pay Broker a commission of 5.5% of the gross sales price.
CLOSING. Closing shall take place on or before March 5, 2024 at the offices of the title company.
"""


def _of(entities, entity_type):
    return [e for e in entities if e.type == entity_type]


def test_the_price_parcel_and_closing_date_are_found_in_a_known_contract():
    found = extract_entities(CONTRACT)
    assert [e.value for e in _of(found, "purchase_price")] == [425000.0]
    assert [e.value for e in _of(found, "parcel_number")] == ["123-456-789"]
    closing = [e for e in _of(found, "key_date") if e.value == "2024-03-05"]
    assert closing and closing[0].role == "closing"
    assert "2024-02-14" in [e.value for e in _of(found, "key_date")]


@pytest.mark.parametrize(
    ("span", "day"),
    [
        ("March 5, 2024", dt.date(2024, 3, 5)),
        ("Sept. 30, 2025", dt.date(2025, 9, 30)),
        ("Sep 30, 2025", dt.date(2025, 9, 30)),
        ("3/5/2024", dt.date(2024, 3, 5)),
        ("03/05/2024", dt.date(2024, 3, 5)),
        ("13/05/2024", dt.date(2024, 5, 13)),  # no 13th month: written day first
        ("2024-03-05", dt.date(2024, 3, 5)),
        ("2/29/2024", dt.date(2024, 2, 29)),
    ],
)
def test_dates_are_read_in_each_shape_a_document_writes_them(span, day):
    assert parse_date(span) == day


@pytest.mark.parametrize(
    "span", ["2/29/2025", "01/00/2024", "00/12/2024", "13/13/2024", "Feb 30, 2024", "2024-13-01"]
)
def test_a_date_shaped_span_naming_no_calendar_day_is_no_date(span):
    assert parse_date(span) is None


def test_loan_amount_earnest_money_and_interest_rate_are_told_apart():
    grouped = entities_by_type(extract_entities(CONTRACT))
    assert grouped["loan_amount"] == [340000.0]
    assert grouped["amount"] == [8500.0]
    assert grouped["interest_rate"] == [6.125]  # the 5.5 % commission is not an interest rate


def test_parties_are_found_across_line_breaks_in_the_contract_convention():
    grouped = entities_by_type(extract_entities(CONTRACT))
    assert grouped["buyer"] == ["Ann Lee", "Bob Lee"]
    assert grouped["seller"] == ["Carla M. Diaz"]


def test_labelled_fields_grantors_grantees_and_lenders_map_to_party_types():
    text = (
        "Borrower: Dana Cole and Evan Cole\nLender: Harbor Savings Bank, N.A.\n"
        'For consideration Frank Moss ("Grantor") conveys to Gina Park ("Grantee") the land.\n'
        "a deed of trust in favor of Pine Home Loans. Title policy follows."
    )
    grouped = entities_by_type(extract_entities(text))
    assert grouped["borrower"] == ["Dana Cole", "Evan Cole"]
    assert grouped["lender"] == ["Harbor Savings Bank, N.A.", "Pine Home Loans"]
    assert grouped["seller"] == ["Frank Moss"]
    assert grouped["buyer"] == ["Gina Park"]


def test_an_address_is_confirmed_by_the_address_parser_and_not_glued_to_a_year():
    text = "dated 2023 covering the property at 531 Larson Garden, Port Jenniferberg, CO 81423."
    addresses = _of(extract_entities(text), "property_address")
    assert [a.value for a in addresses] == ["531 Larson Garden, Port Jenniferberg, CO 81423"]
    assert addresses[0].confidence >= 0.9  # labelled by "property at"


def test_text_without_entities_yields_none():
    assert extract_entities("Thank you for your business. Please keep this for your records.") == []


def test_the_json_for_the_marts_holds_each_distinct_entity_once_with_its_confidence():
    records = json.loads(entities_json(extract_entities(CONTRACT + CONTRACT)))
    keys = [(r["type"], r["value"]) for r in records]
    assert len(keys) == len(set(keys))
    assert all(0 < r["confidence"] <= 1 for r in records)
    assert {r["type"] for r in records} <= set(ENTITY_TYPES)


def test_on_simulated_clean_text_every_entity_type_has_high_precision_and_recall():
    docs = [simulate_document(i, 13, dpi=72) for i in range(45)]
    predicted = [entities_by_type(extract_entities(d.clean_text)) for d in docs]
    scores = score_entities(predicted, [d.entities for d in docs])
    for entity_type, score in scores.items():
        assert score.true_positives + score.false_negatives > 0, entity_type
        assert score.precision >= 0.95, (entity_type, score)
        assert score.recall >= 0.95, (entity_type, score)


@pytest.mark.parametrize(
    ("predicted", "precision", "recall"),
    [(["Ann Lee"], 1.0, 0.5), (["ann  lee", "Bob Lee", "Zed"], 2 / 3, 1.0), ([], 1.0, 0.0)],
)
def test_entity_scores_match_normalised_values(predicted, precision, recall):
    score = score_entities([{"buyer": predicted}], [{"buyer": ["Ann Lee", "Bob Lee"]}])["buyer"]
    assert (score.precision, score.recall) == pytest.approx((precision, recall))
