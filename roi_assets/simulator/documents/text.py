"""Text of the nine document types, written from one transaction's facts.

Each type has its own vocabulary, structure and furniture (letterheads, tables, checkboxes,
signature blocks), and several phrasings per clause, so a classifier has to learn the type rather
than a template. Types overlap the way real paperwork does: a purchase agreement mentions the
loan, a title commitment the price, a tax bill the owner.

On top of each type's own text (`_harden`), documents arrive the way an archive holds them: the
same escrow, privacy and wire-fraud boilerplate on every type; a generic title or none ("NOTICE",
"AGREEMENT") on some, so the title word does not give the type away; a cover sheet bundled in front
that lists other documents by name; an addendum behind that names the contract it amends; and
receipt pages, filed with their type, that only name the document they acknowledge. The type is
what the main document is, whatever its companions say.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from faker import Faker

from roi_assets.simulator.documents.content import (
    Block,
    Checkboxes,
    DocumentContent,
    Fields,
    Heading,
    Letterhead,
    PageBreak,
    Paragraph,
    Signatures,
    Table,
    Title,
)
from roi_assets.simulator.documents.facts import Recorder, Transaction, draw_transaction


def _pick(rng: np.random.Generator, options: tuple[str, ...] | list[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _shuffled(rng: np.random.Generator, blocks: list[Block]) -> tuple[Block, ...]:
    order = rng.permutation(len(blocks))
    return tuple(blocks[i] for i in order)


def _para(rec: Recorder, text: str) -> Paragraph:
    return Paragraph(text, rec.take())


_SIGNER_ROLES = {
    "Buyer": "buyer",
    "Buyer(s)": "buyer",
    "Purchaser": "buyer",
    "Seller": "seller",
    "Grantor": "seller",
    "Borrower": "borrower",
}


def _signatures(rec: Recorder, signers: tuple[tuple[str, str], ...]) -> Signatures:
    """Signature lines; a printed name under a party's role states that party."""
    for role, name in signers:
        if role in _SIGNER_ROLES:
            rec.note(_SIGNER_ROLES[role], name)
    return Signatures(signers, rec.take())


def _letterhead(fake: Faker, name: str) -> Letterhead:
    return Letterhead(
        name,
        (
            f"{fake.street_address()}, {fake.city()}, {fake.state_abbr(False, False)}",
            f"Tel {fake.numerify('(###) ###-####')}  www.{fake.domain_word()}.com",
        ),
    )


def _purchase_agreement(
    fake: Faker, rng: np.random.Generator, rec: Recorder, t: Transaction
) -> DocumentContent:
    title = _pick(
        rng,
        (
            "RESIDENTIAL PURCHASE AGREEMENT",
            "REAL ESTATE PURCHASE AND SALE AGREEMENT",
            "CONTRACT FOR SALE AND PURCHASE OF REAL ESTATE",
            "OFFER TO PURCHASE REAL ESTATE",
        ),
    )
    buyer_label = _pick(rng, ("Buyer", "Buyer(s)", "Purchaser"))
    head: list[Block] = [Title(title)]
    opening = (
        f"This agreement is made on {rec.date(t.effective_date)} between "
        f'{rec.parties("buyer", t.buyers)} ("{buyer_label}") and '
        f'{rec.parties("seller", t.sellers)} ("Seller") for the real property located at '
        f'{rec.address(t)} (the "Property"), Assessor\'s Parcel Number {rec.parcel(t)}, '
        f"together with all fixtures and improvements."
    )
    if rng.random() < 0.5:
        head.append(
            Fields(
                (
                    (f"{buyer_label}", rec.parties("buyer", t.buyers)),
                    ("Seller", rec.parties("seller", t.sellers)),
                    ("Property", rec.address(t)),
                    ("APN", rec.parcel(t)),
                ),
                rec.take(),
            )
        )
    head.append(_para(rec, opening))
    head.append(
        _para(
            rec,
            f"PURCHASE PRICE. {buyer_label} agrees to pay the total purchase price of "
            f"{rec.money(t.price, 'purchase_price')}, payable as follows: an earnest money deposit "
            f"of {rec.money(t.earnest)} delivered to {t.title_company} within three (3) business "
            f"days after acceptance, and the balance in cash or certified funds at closing.",
        )
    )
    optional: list[Block] = [
        _para(
            rec,
            f"FINANCING. This agreement is contingent upon {buyer_label} obtaining a "
            f"{t.loan_type} loan in the amount of {rec.money(t.loan, 'loan_amount')} at an "
            f"interest rate not to exceed {rec.rate(t.rate)} for a term of {t.term_years} years. "
            f"{buyer_label} shall apply for the loan within five (5) days after acceptance.",
        ),
        _para(
            rec,
            f"CLOSING. Closing shall take place on or before {rec.date(t.closing_date)} at the "
            f"offices of {t.title_company} or at such other place as the parties agree in "
            f"writing. Possession shall be delivered to {buyer_label} at closing.",
        ),
        _para(
            rec,
            f"INSPECTIONS. {buyer_label} may, at {buyer_label}'s expense, have the Property "
            f"inspected by licensed inspectors on or before {rec.date(t.inspection_date)}. If "
            f"{buyer_label} is not satisfied with the results, {buyer_label} may cancel this "
            f"agreement by written notice and the earnest money shall be returned.",
        ),
        _para(
            rec,
            "TITLE. Seller shall convey marketable title by general warranty deed, free of liens "
            "and encumbrances except easements and restrictions of record. Seller shall pay for an "
            "owner's policy of title insurance in the amount of the purchase price.",
        ),
        _para(
            rec,
            "PRORATIONS. Real estate taxes, homeowners association dues, rents and utilities "
            "shall be prorated as of the date of closing. Special assessments levied before "
            "closing shall be paid by Seller.",
        ),
        _para(
            rec,
            f"DEFAULT. If {buyer_label} fails to complete the purchase without legal excuse, "
            "Seller may retain the earnest money as liquidated damages as Seller's sole remedy. "
            f"If Seller defaults, {buyer_label} may seek specific performance.",
        ),
        _para(
            rec,
            "RISK OF LOSS. Until closing, the risk of loss or damage to the Property by fire or "
            "other casualty shall remain with Seller.",
        ),
        _para(
            rec,
            f"GOVERNING LAW. This agreement shall be governed by the laws of the State of "
            f"{t.state_name}. Time is of the essence of this agreement.",
        ),
        _para(
            rec,
            "ENTIRE AGREEMENT. This agreement, including any addenda signed by the parties, is "
            "the entire agreement between the parties and may be modified only in writing.",
        ),
    ]
    if rng.random() < 0.5:
        optional.append(
            Checkboxes(
                (
                    ("Lead-based paint disclosure addendum attached", bool(rng.random() < 0.5)),
                    ("Seller's property disclosure received", True),
                    ("Sale of Buyer's property contingency", bool(rng.random() < 0.3)),
                    ("Home warranty to be provided by Seller", bool(rng.random() < 0.4)),
                )
            )
        )
    tail: list[Block] = [
        _signatures(
            rec,
            tuple((buyer_label, name) for name in t.buyers)
            + tuple(("Seller", name) for name in t.sellers),
        )
    ]
    return DocumentContent(
        "purchase_agreement", "legal", tuple(head), _shuffled(rng, optional), tuple(tail)
    )


def _listing_agreement(
    fake: Faker, rng: np.random.Generator, rec: Recorder, t: Transaction
) -> DocumentContent:
    commission = float(rng.choice([5.0, 5.5, 6.0, 2.5, 3.0]))
    term_days = int(rng.choice([90, 120, 180]))
    expiration = t.effective_date + dt.timedelta(days=term_days)
    list_price = t.price + float(rng.choice([0, 5_000, 10_000, 15_000]))
    head: list[Block] = [
        _letterhead(fake, t.brokerage),
        Title(
            _pick(
                rng,
                (
                    "EXCLUSIVE RIGHT TO SELL LISTING AGREEMENT",
                    "LISTING AGREEMENT",
                    "EXCLUSIVE LISTING CONTRACT",
                ),
            )
        ),
        Fields(
            (
                ("Seller", rec.parties("seller", t.sellers)),
                ("Property Address", rec.address(t)),
                ("Parcel ID", rec.parcel(t)),
                ("Listing Price", rec.money(list_price)),
                ("Listing Period", f"{rec.date(t.effective_date)} to {rec.date(expiration)}"),
            ),
            rec.take(),
        ),
        _para(
            rec,
            f'In consideration of the services of {t.brokerage} ("Broker"), Seller grants Broker '
            f"the exclusive right to sell the Property described above for the listing price or "
            f"any other price acceptable to Seller, beginning on the date above and expiring at "
            f"midnight on the last day of the listing period.",
        ),
    ]
    optional: list[Block] = [
        _para(
            rec,
            f"COMPENSATION. Seller agrees to pay Broker a commission of {commission:.1f}% of the "
            "gross sales price if the Property is sold during the listing period by Broker, "
            "Seller or any other person.",
        ),
        _para(
            rec,
            "MARKETING. Broker is authorized to place a sign on the Property, to submit the "
            "listing to the multiple listing service, to advertise the Property online and to "
            "install a lockbox for showings.",
        ),
        _para(
            rec,
            f"PROTECTION PERIOD. If within {int(rng.choice([30, 60, 90]))} days after expiration "
            "the Property is sold to a buyer who was shown the Property during the listing period, "
            "Seller shall pay the commission stated above.",
        ),
        _para(
            rec,
            "SELLER'S DUTIES. Seller shall make the Property available for showings at reasonable "
            "times, disclose known material defects, and refer all inquiries to Broker.",
        ),
        _para(
            rec,
            "FAIR HOUSING. The Property shall be offered to all persons without regard to race, "
            "color, religion, sex, disability, familial status or national origin.",
        ),
        _para(
            rec,
            f"AGENCY. {t.agent} will act as the listing agent on behalf of Broker. Seller "
            "consents to dual agency only with written notice.",
        ),
        Checkboxes(
            (
                ("Lockbox authorized", bool(rng.random() < 0.8)),
                ("Yard sign authorized", bool(rng.random() < 0.7)),
                ("Virtual tour authorized", bool(rng.random() < 0.5)),
                ("Seller has a home warranty", bool(rng.random() < 0.3)),
            )
        ),
    ]
    tail: list[Block] = [
        _signatures(rec, (*(("Seller", name) for name in t.sellers), ("Listing Agent", t.agent)))
    ]
    return DocumentContent(
        "listing_agreement", "letter", tuple(head), _shuffled(rng, optional), tuple(tail)
    )


_DISCLOSURE_QUESTIONS = (
    "Any past or present water leakage in the house",
    "Any structural defects in the foundation",
    "Any known lead-based paint hazards",
    "Any roof repairs within the last five years",
    "Any termite or wood-destroying insect damage",
    "Any flooding or drainage problems",
    "Any additions made without permits",
    "Any mold or mildew observed",
    "Any underground storage tanks",
    "Any pending lawsuits affecting the property",
    "Any boundary line disputes or encroachments",
    "Any problems with the septic or sewer system",
    "Any radon testing performed",
    "Any asbestos-containing materials",
    "Any homeowners association fees",
    "Any zoning violations or nonconforming uses",
)


def _disclosure_form(
    fake: Faker, rng: np.random.Generator, rec: Recorder, t: Transaction
) -> DocumentContent:
    head: list[Block] = [
        Title(
            _pick(
                rng,
                (
                    "SELLER'S PROPERTY DISCLOSURE STATEMENT",
                    "REAL ESTATE TRANSFER DISCLOSURE STATEMENT",
                    "SELLER'S DISCLOSURE OF PROPERTY CONDITION",
                ),
            )
        ),
        Fields(
            (
                ("Property Address", rec.address(t)),
                ("Seller", rec.parties("seller", t.sellers)),
                ("Date", rec.date(t.effective_date)),
            ),
            rec.take(),
        ),
        _para(
            rec,
            "This statement discloses the condition of the property known to the Seller as of the "
            "date above. It is not a warranty of any kind by the Seller or any agent and is not a "
            "substitute for any inspections the Buyer may wish to obtain.",
        ),
    ]
    questions = list(_DISCLOSURE_QUESTIONS)
    rng.shuffle(questions)
    optional: list[Block] = []
    for start in range(0, len(questions), 4):
        group = questions[start : start + 4]
        optional.append(
            Heading(
                _pick(
                    rng,
                    (
                        "Property Condition",
                        "Environmental",
                        "Structure",
                        "Systems and Utilities",
                        "Legal and Title",
                    ),
                )
            )
        )
        optional.append(Checkboxes(tuple((q, bool(rng.random() < 0.25)) for q in group)))
    optional.append(
        _para(
            rec,
            "If any answer above is yes, explain: "
            + _pick(
                rng,
                (
                    f"The roof was replaced in {t.effective_date.year - int(rng.integers(1, 6))} "
                    "after storm damage.",
                    "Minor seepage in the basement after heavy rain; a sump pump was installed.",
                    "A portion of the deck was added without a permit by a previous owner.",
                    "Radon level measured below the action level.",
                ),
            ),
        )
    )
    optional.append(
        _para(
            rec,
            "Buyer acknowledges receipt of this disclosure statement and understands that it is "
            "based on the Seller's actual knowledge and is not a substitute for a professional "
            "home inspection.",
        )
    )
    tail: list[Block] = [
        _signatures(
            rec,
            tuple(("Seller", name) for name in t.sellers)
            + tuple(("Buyer", name) for name in t.buyers),
        ),
    ]
    return DocumentContent("disclosure_form", "form", tuple(head), tuple(optional), tuple(tail))


_INSPECTION_ITEMS = (
    ("Roof covering", "Asphalt shingles show granule loss on the south slope"),
    ("Gutters and downspouts", "Downspout at rear corner discharges against foundation"),
    ("Foundation", "Hairline settlement cracks typical for age"),
    ("Electrical panel", "Double-tapped breaker in main panel"),
    ("Water heater", "Unit is near end of expected service life"),
    ("Furnace", "Filter dirty; recommend annual service"),
    ("Air conditioning", "Operated normally at time of inspection"),
    ("Plumbing supply", "Galvanized pipe visible at laundry"),
    ("Windows", "Several seals failed; fogging between panes"),
    ("Attic insulation", "Approximately 8 inches of blown-in insulation"),
    ("Smoke detectors", "Missing in two bedrooms"),
    ("Exterior siding", "Loose trim at front gable"),
    ("Garage door", "Auto-reverse did not engage"),
    ("Kitchen appliances", "All tested appliances functional"),
    ("Bathroom ventilation", "Fan vents into attic rather than exterior"),
    ("Driveway", "Moderate cracking and heaving"),
)
_CONDITIONS = ("Satisfactory", "Marginal", "Repair", "Safety", "Monitor")


def _inspection_report(
    fake: Faker, rng: np.random.Generator, rec: Recorder, t: Transaction
) -> DocumentContent:
    company = f"{fake.last_name()} Home Inspections"
    fee = float(rng.choice([375, 425, 450, 495, 550, 625]))
    head: list[Block] = [
        _letterhead(fake, company),
        Title(
            _pick(
                rng,
                (
                    "HOME INSPECTION REPORT",
                    "PROPERTY INSPECTION REPORT",
                    "RESIDENTIAL INSPECTION SUMMARY",
                ),
            )
        ),
        Fields(
            (
                ("Property", rec.address(t)),
                ("Inspection Date", rec.date(t.inspection_date)),
                ("Inspector", f"{t.inspector}, License #{fake.numerify('HI-#####')}"),
                ("Inspection Fee", rec.money(fee)),
                ("Weather", _pick(rng, ("Clear, 68 F", "Overcast, 54 F", "Light rain, 47 F"))),
            ),
            rec.take(),
        ),
    ]
    items = list(_INSPECTION_ITEMS)
    rng.shuffle(items)
    optional: list[Block] = [
        _para(
            rec,
            "This report describes the visible condition of the readily accessible systems and "
            "components of the home on the inspection date. It is not a guarantee or warranty "
            "and does not predict future performance.",
        )
    ]
    for start in range(0, len(items), 4):
        rows = tuple(
            (name, _CONDITIONS[int(rng.integers(len(_CONDITIONS)))], comment)
            for name, comment in items[start : start + 4]
        )
        optional.append(
            Heading(_pick(rng, ("Exterior", "Interior", "Systems", "Structure", "Safety Items")))
        )
        optional.append(Table(("Item", "Condition", "Comments"), rows))
    repair = float(rng.integers(8, 60)) * 100
    optional.append(
        _para(
            rec,
            f"SUMMARY. The estimated cost of the repairs marked Repair or Safety is "
            f"{rec.money(repair)}. Obtain estimates from licensed contractors before the end of "
            f"the inspection contingency period.",
        )
    )
    tail: list[Block] = [_signatures(rec, (("Inspector", t.inspector),))]
    return DocumentContent("inspection_report", "report", tuple(head), tuple(optional), tuple(tail))


def _monthly_payment(principal: float, annual_rate: float, years: int) -> float:
    r = annual_rate / 100 / 12
    n = years * 12
    return round(principal * r / (1 - (1 + r) ** -n), 2)


def _mortgage_docs(
    fake: Faker, rng: np.random.Generator, rec: Recorder, t: Transaction
) -> DocumentContent:
    variant = _pick(rng, ("PROMISSORY NOTE", "DEED OF TRUST", "MORTGAGE", "LOAN ESTIMATE"))
    payment = _monthly_payment(t.loan, t.rate, t.term_years)
    maturity = t.first_payment_date.replace(year=t.first_payment_date.year + t.term_years)
    head: list[Block] = [
        Title(variant),
        Fields(
            (
                ("Loan Number", fake.numerify("##########")),
                ("Borrower", rec.parties("borrower", t.buyers)),
                ("Lender", rec.parties("lender", (t.lender,))),
                ("Property Address", rec.address(t)),
                ("Loan Amount", rec.money(t.loan, "loan_amount")),
                ("Interest Rate", rec.rate(t.rate)),
            ),
            rec.take(),
        ),
        _para(
            rec,
            f"In return for a loan that Borrower has received, Borrower promises to pay "
            f'{rec.money(t.loan, "loan_amount")} (this amount is called "Principal"), plus '
            f'interest, to the order of {t.lender} ("Lender"). Interest will be charged on '
            f"unpaid principal until the full amount has been paid at a yearly rate of "
            f"{rec.rate(t.rate)}.",
        ),
    ]
    optional: list[Block] = [
        _para(
            rec,
            f"PAYMENTS. Borrower will pay principal and interest by making a payment every month "
            f"of {rec.money(payment)}, beginning on {rec.date(t.first_payment_date)}. If on "
            f"{rec.date(maturity)} Borrower still owes amounts under this Note, Borrower will pay "
            f"those amounts in full on that date, which is called the Maturity Date.",
        ),
        _para(
            rec,
            f"LATE CHARGES. If Lender has not received the full amount of any monthly payment by "
            f"the end of fifteen calendar days after the date it is due, Borrower will pay a late "
            f"charge of {rec.money(round(payment * 0.05, 2))}.",
        ),
        _para(
            rec,
            "PREPAYMENT. Borrower has the right to make payments of principal at any time before "
            "they are due without penalty. Lender will use prepayments to reduce the amount of "
            "principal that Borrower owes.",
        ),
        _para(
            rec,
            "ESCROW ITEMS. Borrower shall pay to Lender on the day periodic payments are due a "
            "sum to provide for payment of taxes, assessments, hazard insurance premiums and any "
            "mortgage insurance premiums.",
        ),
        _para(
            rec,
            f"SECURITY. This loan is secured by a security instrument dated "
            f"{rec.date(t.closing_date)} covering the property at {rec.address(t)}, which "
            f"protects Lender from possible losses if Borrower does not keep these promises.",
        ),
        _para(
            rec,
            "DEFAULT. If Borrower does not pay the full amount of each monthly payment on the "
            "date it is due, Borrower will be in default, and Lender may require Borrower to pay "
            "immediately the full amount of principal which has not been paid.",
        ),
        _para(
            rec,
            "WAIVERS. Borrower and any other person who has obligations under this Note waive "
            "the rights of presentment and notice of dishonor.",
        ),
        Table(
            ("Closing Cost", "Amount"),
            tuple(
                (name, rec.money(float(rng.integers(2, 40)) * 25))
                for name in (
                    "Origination charge",
                    "Appraisal fee",
                    "Credit report",
                    "Flood certification",
                    "Recording fees",
                )
            ),
            rec.take(),
        ),
    ]
    tail: list[Block] = [_signatures(rec, tuple(("Borrower", name) for name in t.buyers))]
    return DocumentContent(
        "mortgage_docs", "legal", tuple(head), _shuffled(rng, optional), tuple(tail)
    )


def _title_docs(
    fake: Faker, rng: np.random.Generator, rec: Recorder, t: Transaction
) -> DocumentContent:
    variant = _pick(
        rng,
        ("GENERAL WARRANTY DEED", "QUITCLAIM DEED", "TITLE COMMITMENT", "SPECIAL WARRANTY DEED"),
    )
    lot, block_no = int(rng.integers(1, 80)), int(rng.integers(1, 20))
    subdivision = f"{fake.last_name()} {_pick(rng, ('Estates', 'Heights', 'Addition', 'Park'))}"
    head: list[Block] = [
        Fields(
            (
                ("Recording requested by", t.title_company),
                ("Order No.", fake.numerify("T-######")),
                ("APN", rec.parcel(t)),
            ),
            rec.take(),
        ),
        Title(variant),
        _para(
            rec,
            f"For valuable consideration of {rec.money(t.price, 'purchase_price')}, receipt of "
            f'which is acknowledged, {rec.parties("seller", t.sellers)} ("Grantor") hereby '
            f'grants and conveys to {rec.parties("buyer", t.buyers)} ("Grantee") the following '
            f"described real property in {t.county}, State of {t.state_name}:",
        ),
        _para(
            rec,
            f"Lot {lot}, Block {block_no}, {subdivision}, according to the plat thereof recorded "
            f"in Plat Book {int(rng.integers(10, 99))}, Page {int(rng.integers(1, 300))}, "
            f"commonly known as {rec.address(t)}.",
        ),
    ]
    optional: list[Block] = [
        _para(
            rec,
            "SUBJECT TO covenants, conditions, restrictions and easements of record, and real "
            f"property taxes for the year {t.closing_date.year} and subsequent years.",
        ),
        _para(
            rec,
            "Grantor covenants that Grantor is lawfully seized of the property, has good right to "
            "convey it, and will warrant and defend the title against the lawful claims of all "
            "persons.",
        ),
        _para(
            rec,
            f"SCHEDULE B. Exceptions: rights of parties in possession; easements not shown by the "
            f"public records; a deed of trust to secure an indebtedness in the amount of "
            f"{rec.money(t.loan, 'loan_amount')} in favor of {rec.parties('lender', (t.lender,))}.",
        ),
        _para(
            rec,
            f"Title insurance policy amount: {rec.money(t.price)}. Effective date of commitment: "
            f"{rec.date(t.effective_date)}.",
        ),
        _para(
            rec,
            f"STATE OF {t.state_name.upper()}, COUNTY OF {t.county.upper()}. On "
            f"{rec.date(t.closing_date)}, before me, {_person_name(fake)}, a Notary Public, "
            f"personally appeared the Grantor named above, known to me to be the person whose "
            f"name is subscribed to this instrument.",
        ),
    ]
    tail: list[Block] = [
        _signatures(rec, (*(("Grantor", name) for name in t.sellers), ("Notary Public", "")))
    ]
    return DocumentContent("title_docs", "legal", tuple(head), tuple(optional), tuple(tail))


def _person_name(fake: Faker) -> str:
    return f"{fake.first_name()} {fake.last_name()}"


def _tax_records(
    fake: Faker, rng: np.random.Generator, rec: Recorder, t: Transaction
) -> DocumentContent:
    land = round(t.price * float(rng.uniform(0.15, 0.35)), -2)
    improvements = round(t.price * float(rng.uniform(0.5, 0.8)), -2)
    assessed = land + improvements
    mill = float(rng.uniform(8, 25))
    tax = round(assessed * mill / 1000, 2)
    year = t.effective_date.year
    owners = t.sellers
    head: list[Block] = [
        _letterhead(fake, f"{t.county} Treasurer and Tax Collector"),
        Title(
            _pick(
                rng,
                (
                    f"{year} REAL PROPERTY TAX STATEMENT",
                    "PROPERTY TAX BILL",
                    f"NOTICE OF ASSESSED VALUE - TAX YEAR {year}",
                ),
            )
        ),
        Fields(
            (
                ("Parcel Number", rec.parcel(t)),
                ("Owner", " and ".join(owners)),
                ("Situs Address", rec.address(t)),
                ("Tax District", f"{fake.city()} {int(rng.integers(1, 40)):02d}"),
            ),
            rec.take(),
        ),
        Table(
            ("Assessment", "Value"),
            (
                ("Land", rec.money(land)),
                ("Improvements", rec.money(improvements)),
                ("Total Assessed Value", rec.money(assessed)),
            ),
            rec.take(),
        ),
    ]
    first_half = dt.date(year, 11, 1)
    second_half = dt.date(year + 1, 2, 1)
    optional: list[Block] = [
        Table(
            ("Levy", "Rate", "Amount"),
            tuple(
                (name, f"{share * mill:.4f}", rec.money(round(tax * share, 2)))
                for name, share in (
                    ("County General", 0.3),
                    ("School District", 0.45),
                    ("City", 0.15),
                    ("Fire District", 0.1),
                )
            ),
            rec.take(),
        ),
        _para(
            rec,
            f"Total tax due {rec.money(tax)}. First installment of {rec.money(round(tax / 2, 2))} "
            f"is due {rec.date(first_half)}; second installment is due {rec.date(second_half)}. "
            f"Payments received after the due date are subject to a penalty of ten percent.",
        ),
        _para(
            rec,
            "If you sold this property, please forward this statement to the new owner. Failure "
            "to receive a tax bill does not relieve the owner of the obligation to pay.",
        ),
        _para(
            rec,
            "Exemptions: a homestead exemption may reduce the assessed value of an owner-occupied "
            "residence. Applications must be filed with the assessor by March 1.",
        ),
    ]
    tail: list[Block] = [
        Fields(
            (
                ("Return this stub with payment to", f"{t.county} Treasurer"),
                ("Parcel", rec.parcel(t)),
            ),
            rec.take(),
        )
    ]
    return DocumentContent("tax_records", "ledger", tuple(head), tuple(optional), tuple(tail))


def _hoa_docs(
    fake: Faker, rng: np.random.Generator, rec: Recorder, t: Transaction
) -> DocumentContent:
    association = (
        f"{fake.last_name()} {_pick(rng, ('Estates', 'Village', 'Commons', 'Ridge'))} "
        f"Homeowners Association"
    )
    dues = float(rng.integers(8, 60)) * 10
    meeting = t.effective_date + dt.timedelta(days=int(rng.integers(10, 60)))
    owner = t.sellers[0]
    head: list[Block] = [
        _letterhead(fake, association),
        Title(
            _pick(
                rng,
                (
                    "NOTICE OF ANNUAL MEETING AND BUDGET",
                    "ESTOPPEL CERTIFICATE",
                    "ASSESSMENT NOTICE",
                    "RESALE CERTIFICATE",
                ),
            )
        ),
        Fields(
            (
                ("Owner", owner),
                ("Unit Address", rec.address(t)),
                ("Account", fake.numerify("HOA-#####")),
                ("Monthly Assessment", rec.money(dues)),
            ),
            rec.take(),
        ),
    ]
    reserve = float(rng.integers(40, 400)) * 1000
    optional: list[Block] = [
        _para(
            rec,
            f"The annual meeting of the members of {association} will be held on "
            f"{rec.date(meeting)} at 7:00 p.m. in the community clubhouse. A quorum of members "
            f"is required to elect directors and adopt the budget.",
        ),
        Table(
            ("Budget Category", "Annual Amount"),
            tuple(
                (name, rec.money(float(rng.integers(20, 900)) * 100))
                for name in (
                    "Landscaping",
                    "Insurance",
                    "Management fees",
                    "Pool maintenance",
                    "Reserve contribution",
                    "Utilities",
                )
            ),
            rec.take(),
        ),
        _para(
            rec,
            f"The reserve fund balance is {rec.money(reserve)}. The board does not anticipate a "
            f"special assessment in the coming fiscal year.",
        ),
        _para(
            rec,
            "Architectural changes, including fences, exterior paint colors and solar panels, "
            "require prior written approval of the architectural review committee.",
        ),
        _para(
            rec,
            "Pets must be leashed in common areas. Trash containers may be placed at the curb "
            "after 6:00 p.m. on the day before collection.",
        ),
        _para(
            rec,
            f"Assessments are due on the first day of each month. A late fee of "
            f"{rec.money(25.0)} applies to payments received after the fifteenth.",
        ),
    ]
    tail: list[Block] = [_signatures(rec, (("Community Manager", _person_name(fake)),))]
    return DocumentContent("hoa_docs", "letter", tuple(head), _shuffled(rng, optional), tuple(tail))


def _other(fake: Faker, rng: np.random.Generator, rec: Recorder, t: Transaction) -> DocumentContent:
    variant = _pick(rng, ("moving", "warranty", "utility", "cover_letter"))
    if variant == "moving":
        company = f"{fake.last_name()} Moving & Storage"
        head: list[Block] = [
            _letterhead(fake, company),
            Title("MOVING ESTIMATE"),
            Fields(
                (
                    ("Customer", _person_name(fake)),
                    ("Move Date", rec.date(t.closing_date)),
                    ("Origin", fake.city()),
                    ("Destination", t.city),
                ),
                rec.take(),
            ),
        ]
        rows = tuple(
            (item, str(int(rng.integers(1, 12))), rec.money(float(rng.integers(3, 90)) * 10))
            for item in ("Boxes packed", "Furniture pieces", "Appliances", "Piano", "Crating")
        )
        optional: list[Block] = [
            Table(("Service", "Qty", "Charge"), rows, rec.take()),
            _para(
                rec,
                "Estimate is valid for thirty days. Final charges are based on actual "
                "weight and time. Valuation coverage is sixty cents per pound per article.",
            ),
        ]
    elif variant == "warranty":
        head = [
            _letterhead(fake, f"{fake.last_name()} Home Warranty"),
            Title("HOME WARRANTY SERVICE AGREEMENT"),
            Fields(
                (
                    ("Plan", _pick(rng, ("Silver", "Gold", "Platinum"))),
                    ("Start Date", rec.date(t.closing_date)),
                    ("Annual Fee", rec.money(float(rng.integers(40, 80)) * 10)),
                ),
                rec.take(),
            ),
        ]
        optional = [
            _para(
                rec,
                "Covered systems include heating, plumbing, electrical, water heater and "
                f"kitchen appliances. A service fee of {rec.money(75.0)} applies per "
                "claim.",
            ),
            _para(
                rec,
                "Pre-existing conditions, cosmetic defects and code upgrades are excluded "
                "from coverage.",
            ),
            Checkboxes(
                (
                    ("Pool and spa coverage", bool(rng.random() < 0.3)),
                    ("Well pump coverage", bool(rng.random() < 0.3)),
                    ("Second refrigerator", bool(rng.random() < 0.3)),
                )
            ),
        ]
    elif variant == "utility":
        head = [
            _letterhead(fake, f"{fake.city()} Water and Power"),
            Title("SERVICE TRANSFER CONFIRMATION"),
            Fields(
                (
                    ("Account", fake.numerify("#########")),
                    ("Service Start", rec.date(t.closing_date)),
                    ("Deposit", rec.money(float(rng.integers(5, 30)) * 10)),
                ),
                rec.take(),
            ),
        ]
        optional = [
            _para(
                rec,
                f"Dear {_person_name(fake)}, thank you for choosing us. Electric and "
                "water service will be transferred into your name on the date above. "
                "Meter readings will be taken that morning.",
            ),
            _para(
                rec,
                "You may enroll in paperless billing and automatic payments on our "
                "website. Budget billing spreads your payments evenly over the year.",
            ),
        ]
    else:
        head = [
            _letterhead(fake, t.brokerage),
            Paragraph(f"Dear {_person_name(fake)},"),
        ]
        optional = [
            _para(
                rec,
                "Congratulations on your new home. Enclosed are copies of the documents "
                "from your closing for your records, along with a list of local service "
                "providers.",
            ),
            _para(
                rec,
                "Please keep these documents in a safe place. If you have questions about "
                "your property or would like a market update, do not hesitate to call.",
            ),
            _para(rec, f"Warm regards,\n{t.agent}"),
        ]
    optional.append(
        _para(
            rec,
            _pick(
                rng,
                (
                    "Thank you for your business. Please retain this document for your records.",
                    "Questions about this notice may be directed to our customer service team.",
                    "This document is provided for information only and is not a contract.",
                ),
            ),
        )
    )
    return DocumentContent(
        "other", _pick(rng, ("letter", "form", "report")), tuple(head), tuple(optional), ()
    )


_GENERATORS = {
    "purchase_agreement": _purchase_agreement,
    "listing_agreement": _listing_agreement,
    "disclosure_form": _disclosure_form,
    "inspection_report": _inspection_report,
    "mortgage_docs": _mortgage_docs,
    "title_docs": _title_docs,
    "tax_records": _tax_records,
    "hoa_docs": _hoa_docs,
    "other": _other,
}


# Paragraphs every kind of real-estate paperwork carries, whatever its type.
SHARED_BOILERPLATE = (
    "WIRE FRAUD ALERT. Criminals are targeting real estate transactions. Never wire funds based on "
    "emailed instructions without calling a verified phone number first.",
    "PRIVACY NOTICE. We collect nonpublic personal information about you from applications and "
    "transactions and do not disclose it except as permitted by law.",
    "This document contains important information about the property and the parties. Read it "
    "carefully and consult an attorney or other professional before signing.",
    "Escrow and closing services are provided by the escrow holder named in the transaction "
    "documents. Funds are held in a trust account until closing.",
    "Equal Housing Opportunity. All real estate advertised or sold is subject to the federal Fair "
    "Housing Act.",
    "Copies, facsimiles and electronic signatures of this document shall be as valid as the "
    "original. Keep a copy for your records.",
    "The parties acknowledge that they have read this document, that they understand it, and that "
    "they have received a copy of it.",
)
GENERIC_TITLES = ("NOTICE", "AGREEMENT", "STATEMENT", "DISCLOSURE", "DOCUMENT", "FORM")
# Names by which a cover sheet or an addendum refers to the other documents of a transaction.
DOCUMENT_NAMES = {
    "purchase_agreement": "Residential Purchase Agreement",
    "listing_agreement": "Listing Agreement",
    "disclosure_form": "Seller's Disclosure Statement",
    "inspection_report": "Home Inspection Report",
    "mortgage_docs": "Promissory Note and Deed of Trust",
    "title_docs": "Title Commitment",
    "tax_records": "Property Tax Statement",
    "hoa_docs": "HOA Resale Certificate",
    "other": "Closing Correspondence",
}
# Shares of documents that get each kind of companion or disguise.
GENERIC_TITLE_SHARE = 0.25
BOILERPLATE_SHARE = 0.7
COVER_SHEET_SHARE = 0.15
ADDENDUM_SHARE = 0.15
# Filed with its type, a receipt page says little more than which document it acknowledges: the
# type is a few words in boilerplate that every type shares.
ACKNOWLEDGEMENT_SHARE = 0.12


def _acknowledgement(
    fake: Faker, rng: np.random.Generator, rec: Recorder, t: Transaction, doc_type: str
) -> DocumentContent:
    """A receipt page for the document of `doc_type`, in the records team's generic form."""
    text = (
        f"The undersigned acknowledge receipt of a copy of the {DOCUMENT_NAMES[doc_type]} "
        f"concerning the property at {rec.address(t)} on {rec.date(t.effective_date)}, and "
        "that they have had the opportunity to review it before signing."
    )
    head: list[Block] = [
        _letterhead(fake, t.title_company),
        Title(_pick(rng, ("ACKNOWLEDGEMENT OF RECEIPT", "RECEIPT", "ACKNOWLEDGEMENT"))),
        _para(rec, text),
    ]
    optional = [Paragraph(str(p)) for p in rng.choice(SHARED_BOILERPLATE, size=3, replace=False)]
    signers = tuple(("Buyer", name) for name in t.buyers) + tuple(
        ("Seller", name) for name in t.sellers
    )
    return DocumentContent(
        doc_type,
        _pick(rng, ("letter", "form")),
        tuple(head),
        tuple(optional),
        (_signatures(rec, signers),),
    )


def _cover_sheet(
    fake: Faker, rng: np.random.Generator, rec: Recorder, t: Transaction, doc_type: str
) -> list[Block]:
    """A fax cover or transmittal letter bundled in front, listing several documents by name."""
    others = [name for key, name in DOCUMENT_NAMES.items() if key != doc_type]
    listed = [DOCUMENT_NAMES[doc_type], *rng.choice(others, size=2, replace=False)]
    rng.shuffle(listed)
    return [
        _letterhead(fake, t.title_company),
        Title(_pick(rng, ("FAX COVER SHEET", "TRANSMITTAL", "DOCUMENT DELIVERY"))),
        Fields(
            (
                ("To", _person_name(fake)),
                ("From", t.title_company),
                ("Re", t.street),
                ("Pages", str(int(rng.integers(3, 12)))),
            )
        ),
        Paragraph(
            "Enclosed please find the following for your review and signature: "
            + "; ".join(listed)
            + ". Please return the signed pages at your earliest convenience."
        ),
        PageBreak(),
    ]


def _addendum(
    rng: np.random.Generator, rec: Recorder, t: Transaction, doc_type: str
) -> list[Block]:
    """An addendum behind the main document that names another contract of the transaction."""
    amended = _pick(rng, [name for key, name in DOCUMENT_NAMES.items() if key != doc_type])
    text = (
        f"This addendum is made part of the {amended} dated {rec.date(t.effective_date)} "
        f"concerning the property at {rec.address(t)}. The parties agree to extend the "
        f"closing date to {rec.date(t.closing_date)} and that all other terms remain unchanged."
    )
    return [
        PageBreak(),
        Title(_pick(rng, ("ADDENDUM", "ADDENDUM NO. 1", "AMENDMENT"))),
        _para(rec, text),
        _signatures(rec, tuple(("Buyer", name) for name in t.buyers[:1])),
    ]


def _harden(
    content: DocumentContent,
    fake: Faker,
    rng: np.random.Generator,
    rec: Recorder,
    t: Transaction,
    companions: bool = True,
) -> DocumentContent:
    """The document as the archive holds it (see the module docstring); without `companions`
    (a single-page image file) no cover sheet or addendum is bundled."""
    if rng.random() < ACKNOWLEDGEMENT_SHARE:
        rec.take()  # the main document's text is not written: neither are its entities
        return _acknowledgement(fake, rng, rec, t, content.doc_type)
    head = list(content.head)
    if rng.random() < GENERIC_TITLE_SHARE:
        head = [
            Title(_pick(rng, GENERIC_TITLES)) if isinstance(block, Title) else block
            for block in head
            if not (isinstance(block, Title) and rng.random() < 0.3)
        ]
    optional = list(content.optional)
    if rng.random() < BOILERPLATE_SHARE:
        for text in rng.choice(SHARED_BOILERPLATE, size=int(rng.integers(1, 4)), replace=False):
            optional.insert(int(rng.integers(0, len(optional) + 1)), Paragraph(str(text)))
    if rng.random() < COVER_SHEET_SHARE and companions:
        head = _cover_sheet(fake, rng, rec, t, content.doc_type) + head
    tail = list(content.tail)
    if rng.random() < ADDENDUM_SHARE and companions:
        tail += _addendum(rng, rec, t, content.doc_type)
    return DocumentContent(
        content.doc_type, content.style, tuple(head), tuple(optional), tuple(tail), content.meta
    )


def write_content(doc_type: str, seed: int, companions: bool = True) -> DocumentContent:
    """The text of one document of `doc_type`; the same seed gives the same document.
    `companions=False` leaves out the bundled pages (for documents pinned to one image page)."""
    rng = np.random.default_rng(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rec = Recorder(rng)
    transaction = draw_transaction(fake, rng)
    content = _GENERATORS[doc_type](fake, rng, rec, transaction)
    # a stream of its own, so each type's text is drawn as before the archive's companions
    return _harden(content, fake, np.random.default_rng([seed, 1]), rec, transaction, companions)
