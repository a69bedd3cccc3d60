"""Post-OCR text cleaning: what a recogniser leaves in text that no reader meant to be there.

Two levels, because the stored text and the entity extractor want different things:

- `clean_ocr_text` keeps the page's words and line breaks as printed and only undoes the
  recogniser's artefacts: typographic ligatures (ﬁ, ﬂ, ...) become their letters, curly quotes
  and primes become ASCII ones, and the table and form furniture Tesseract reads as characters
  (runs of `|`, `_`, `=`, `~`, lines that are nothing but rule characters, a `|` glued to a word
  where a cell border was) is removed.
- `text_for_entities` also joins words hyphenated across a line break ("Pur-\\nchaser" becomes
  "Purchaser"), so a name, an address or a label split by the page's line wrap is one word again.
  The stored text keeps the hyphen, as the page printed it.

Written here rather than taken from a library: the spell-checking post-OCR correctors on PyPI
rewrite names and numbers, which are exactly the entities this product extracts; these rules
touch only characters that never belong to one.
"""

from __future__ import annotations

import re

LIGATURES = {
    "\ufb00": "ff",
    "\ufb01": "fi",
    "\ufb02": "fl",
    "\ufb03": "ffi",
    "\ufb04": "ffl",
    "\ufb05": "st",
    "\ufb06": "st",
}
QUOTES = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u2032": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2033": '"',
}
_TRANSLATION = str.maketrans({**LIGATURES, **QUOTES})

_RULE_CHARS = "|_=~¦"
# a line made only of rule characters, dashes and spaces (a table border, a signature line)
_RULE_LINE = re.compile(rf"^[\s{re.escape(_RULE_CHARS)}\-—–.]*$")
# a token made only of rule characters ("|", "__", "||", "===="; a lone "=" is an equals sign)
_RULE_TOKEN = re.compile(r"(?<!\S)(?:[|¦_]+|[=~]{2,})(?!\S)")
# a cell border glued to the start or end of a word ("|Schmidtbury", "Total|")
_GLUED_BORDER = re.compile(r"(?<=\w)[|¦]+(?=\s|$)|(?<=\s)[|¦]+(?=\w)|^[|¦]+(?=\w)", re.MULTILINE)
# a lower-case word broken at a line end by a hyphen, continued in lower case on the next line
_HYPHENATED = re.compile(r"(?<=[a-z])-[ \t]*\n[ \t]*(?=[a-z])")
_SPACES = re.compile(r"[ \t]{2,}")


def clean_ocr_text(text: str) -> str:
    """Ligatures and typographic quotes normalised, rule characters and empty rule lines gone."""
    text = text.translate(_TRANSLATION)
    lines = []
    for line in text.split("\n"):
        if line.strip() and _RULE_LINE.match(line):
            continue  # a drawn rule read as characters
        line = _GLUED_BORDER.sub("", line)
        line = _RULE_TOKEN.sub(" ", line)
        lines.append(_SPACES.sub(" ", line).strip())
    return "\n".join(lines).strip("\n")


def join_hyphenated(text: str) -> str:
    """Words split by a hyphen at a line break joined again; the rest of the line follows them."""
    return _HYPHENATED.sub("", text)


def text_for_entities(text: str) -> str:
    """The text the entity extractor reads: cleaned, with line-break hyphenation undone."""
    return join_hyphenated(clean_ocr_text(text))
