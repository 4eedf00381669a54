"""Spreadsheet formula injection (OWASP "CSV injection"): text a spreadsheet would run.

Excel and LibreOffice run a cell that starts with = + - @, a tab or a carriage return, and
they fold full-width forms (＝ ＋ － ＠) into the ASCII ones; leading blanks do not stop them.
Imports refuse such cells; exports neutralise them with a leading apostrophe."""

import unicodedata

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(text):
    """True if a spreadsheet could run `text` as a formula."""
    if not isinstance(text, str) or not text:
        return False
    if text.startswith(("\t", "\r")):
        return True
    # Leading blanks and line breaks do not stop a spreadsheet, and we strip them on import.
    return unicodedata.normalize("NFKC", text).lstrip().startswith(FORMULA_PREFIXES)


def neutralise(value):
    """Text a spreadsheet would run gets a leading apostrophe, so it opens as text. Numbers
    and dates are left alone."""
    if looks_like_formula(value):
        return "'" + value
    return value
