"""docs/landing.md is the contract a delivering team reads: it must say what the code enforces."""

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from roi_assets.ingestion.contracts import CONTRACTS, Column, Contract

LANDING_DOC = Path(__file__).resolve().parents[2] / "docs" / "landing.md"
TABLE_HEADER = "| column | type | required | allowed values / range |"
NUMBER = r"-?\d+(?:\.\d+)?"


@dataclass(frozen=True)
class DocumentedColumn:
    name: str
    type: str
    required: bool
    allowed: frozenset[str] | None
    minimum: float | None
    maximum: float | None


@dataclass(frozen=True)
class DocumentedSource:
    file_line: str
    keys: tuple[str, ...]
    columns: tuple[DocumentedColumn, ...]


def _constraint(cell: str) -> tuple[frozenset[str] | None, float | None, float | None]:
    """`any`, `one of `a`, `b``, `a to b`, `≥ a` or `≤ b`; anything else is a documentation bug."""
    if cell == "any":
        return None, None, None
    if cell.startswith("one of "):
        values = re.findall(r"`([^`]+)`", cell)
        assert values and cell == "one of " + ", ".join(f"`{v}`" for v in values), cell
        return frozenset(values), None, None
    if match := re.fullmatch(rf"({NUMBER}) to ({NUMBER})", cell):
        return None, float(match[1]), float(match[2])
    if match := re.fullmatch(rf"≥ ({NUMBER})", cell):
        return None, float(match[1]), None
    if match := re.fullmatch(rf"≤ ({NUMBER})", cell):
        return None, None, float(match[1])
    raise AssertionError(f"unparsable allowed values / range: {cell!r}")


def _row(line: str) -> DocumentedColumn:
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    assert len(cells) == 4, line
    name, type_, required, constraint = cells
    assert re.fullmatch(r"`\w+`", name), line
    assert required in ("yes", "no"), line
    allowed, minimum, maximum = _constraint(constraint)
    return DocumentedColumn(name.strip("`"), type_, required == "yes", allowed, minimum, maximum)


def parse_sources(text: str) -> dict[str, DocumentedSource]:
    """Every `### <source>` section that carries a column table."""
    sources = {}
    for section in re.split(r"^### ", text, flags=re.MULTILINE)[1:]:
        heading, _, body = section.partition("\n")
        lines = body.splitlines()
        if TABLE_HEADER not in lines:
            continue
        start = lines.index(TABLE_HEADER) + 2  # past the header and its |---| line
        rows = []
        for line in lines[start:]:
            if not line.startswith("|"):
                break
            rows.append(_row(line))
        file_line = next((ln for ln in lines if ln.startswith("File: ")), "")
        keys_text = file_line.partition("Key: ")[2]
        name = heading.strip()
        assert name not in sources, f"two sections for {name}"
        sources[name] = DocumentedSource(
            file_line, tuple(re.findall(r"`(\w+)`", keys_text)), tuple(rows)
        )
    return sources


def expected(column: Column) -> DocumentedColumn:
    allowed = None if column.allowed is None else frozenset(column.allowed)
    minimum = None if column.minimum is None else float(column.minimum)
    maximum = None if column.maximum is None else float(column.maximum)
    return DocumentedColumn(column.name, column.type, column.required, allowed, minimum, maximum)


DOCUMENTED = parse_sources(LANDING_DOC.read_text(encoding="utf-8"))
CONTRACT_LIST = list(CONTRACTS.values())


def test_every_contract_has_a_section_and_every_section_a_contract():
    assert set(DOCUMENTED) == {c.source for c in CONTRACT_LIST}


@pytest.mark.parametrize("contract", CONTRACT_LIST, ids=lambda c: c.source)
def test_documented_columns_equal_the_contract(contract: Contract):
    documented = DOCUMENTED[contract.source].columns
    assert [c.name for c in documented] == contract.column_names
    for column, row in zip(contract.columns, documented, strict=True):
        assert row == expected(column), column.name


@pytest.mark.parametrize("contract", CONTRACT_LIST, ids=lambda c: c.source)
def test_documented_file_name_is_one_file_per_day_in_the_sources_format(contract: Contract):
    name = f"landing/{contract.source}/{contract.source}_YYYY-MM-DD.{contract.file_format}"
    assert DOCUMENTED[contract.source].file_line.startswith(f"File: `{name}`.")


@pytest.mark.parametrize("contract", CONTRACT_LIST, ids=lambda c: c.source)
def test_documented_keys_are_required_columns_of_the_contract(contract: Contract):
    keys = DOCUMENTED[contract.source].keys
    required = {c.name for c in contract.columns if c.required}
    assert keys and set(keys) <= required


def test_a_changed_contract_no_longer_matches_the_docs():
    """The check can fail: one more allowed value or a lowered bound breaks the equality."""
    plans = next(c for c in CONTRACTS["subscriptions"].columns if c.name == "plan")
    fee = next(c for c in CONTRACTS["subscriptions"].columns if c.name == "monthly_fee")
    documented = {c.name: c for c in DOCUMENTED["subscriptions"].columns}
    widened = Column(plans.name, plans.type, allowed=(*(plans.allowed or ()), "enterprise"))
    lowered = Column(fee.name, fee.type, minimum=-1)
    assert documented["plan"] != expected(widened)
    assert documented["monthly_fee"] != expected(lowered)


def test_the_format_parser_rejects_what_it_cannot_read():
    with pytest.raises(AssertionError):
        _constraint("positive")
    with pytest.raises(AssertionError):
        _row("| `x` | VARCHAR | maybe | any |")
