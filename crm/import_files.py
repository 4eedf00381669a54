"""Reading an import file (CSV or XLSX) safely: bounded in size, rows, columns, inflated size
and time, before any row is checked (crm.imports)."""

import csv
import datetime
import decimal
import hashlib
import io
import json
import re
import time
import unicodedata
import zipfile

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import load_workbook

# Limits (settings IMPORT_*): a file is read whole into memory, so it is bounded first; an XLSX
# is a ZIP of XML, so its inflated size too (a 410 KB file can inflate to gigabytes), and the
# reading time (a 1.6 KB file can declare a million empty rows).
LIMITS = {
    "IMPORT_MAX_BYTES": 5 * 1024 * 1024,
    "IMPORT_MAX_ROWS": 20_000,
    "IMPORT_MAX_COLUMNS": 40,
    "IMPORT_MAX_CELL_CHARS": 1_000,
    "IMPORT_MAX_INFLATED_BYTES": 50 * 1024 * 1024,
    "IMPORT_MAX_SECONDS": 20,
}


def limit(name):
    return getattr(settings, name, LIMITS[name])


class FileRefused(ValueError):
    """The file cannot be read safely (too big, too many rows or columns, a ZIP bomb)."""


def _decode(data):
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # Excel on Windows saves CSV as cp1252/Latin-1


def _check_zip(data):
    """Refuse an XLSX whose parts would inflate beyond the limit (a ZIP bomb)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise FileRefused(_("This is not an XLSX file: save it again as .xlsx or .csv.")) from exc
    members = archive.infolist()
    inflated = sum(member.file_size for member in members)
    if len(members) > 200 or inflated > limit("IMPORT_MAX_INFLATED_BYTES"):
        raise FileRefused(_("The file is too large once opened: split it or save it as CSV."))


def _xlsx_rows(data):
    _check_zip(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        raise FileRefused(_("The XLSX file cannot be read: save it again and retry.")) from exc
    sheet = workbook.worksheets[0]
    # The sheet's declared size is not trusted: a tiny file may declare a million rows.
    sheet.reset_dimensions()
    yield from sheet.iter_rows(max_col=limit("IMPORT_MAX_COLUMNS"), values_only=True)


def _csv_errors_refused(rows):
    """The rows, with the csv module's own refusals (a cell over its 131,072 characters, a NUL
    character) said as a refused file, not a 500."""
    try:
        yield from rows
    except csv.Error as exc:
        raise FileRefused(
            _(
                "The file cannot be read as a table: a cell is too long or holds characters "
                "a table cannot. Check the file, save it again as CSV and retry."
            )
        ) from exc


def read_table(data, filename):
    """Yield (line number, list of cells) from CSV or XLSX bytes; the first is the header.
    Raises FileRefused when the file breaks a limit (rows, columns, size, time)."""
    if len(data) > limit("IMPORT_MAX_BYTES"):
        raise FileRefused(_("The file is too large: split it into smaller files."))
    if filename.lower().endswith(".xlsx"):
        rows = _xlsx_rows(data)
    else:
        text = _decode(data)
        sample = text[:4096]
        delimiter = ";" if sample.count(";") >= sample.count(",") else ","
        rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    # Empty lines count too: reading them costs time all the same.
    max_lines = limit("IMPORT_MAX_ROWS") + 1_000
    deadline = time.monotonic() + limit("IMPORT_MAX_SECONDS")
    rows = _csv_errors_refused(rows)
    for number, row in enumerate(rows, start=1):
        if number > max_lines or time.monotonic() > deadline:
            raise FileRefused(_("The file has too many rows: split it into smaller files."))
        cells = ["" if v is None else v for v in row]
        if len(cells) > limit("IMPORT_MAX_COLUMNS"):
            cells = cells[: limit("IMPORT_MAX_COLUMNS")]
        yield number, cells


def _text(value):
    """A cell as the text the row checks read (dates dd/mm/yyyy, amounts 1234,50)."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.2f}".replace(".", ",")
    return str(value)


def read_cells(data, filename):
    """The file as [[line, [cell text, ...]], ...] (the header first), fit to be stored as JSON
    in an import batch. Raises FileRefused."""
    return [[line, [_text(v) for v in cells]] for line, cells in read_table(data, filename)]


# --- The same data, however it was saved ----------------------------------------------------------

_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})|(\d{4})-(\d{2})-(\d{2})")
_ITALIAN_NUMBER = re.compile(r"[+-]?\d{1,3}(\.\d{3})*(,\d+)?|[+-]?\d+(,\d+)?")
_DOTTED_NUMBER = re.compile(r"[+-]?\d+\.\d+")


def _plain(value):
    return " ".join(unicodedata.normalize("NFC", str(value)).split())


def _canonical_cell(text):
    """A cell's text as the data it holds: a date as ISO, a number without its formatting
    (`10`, `10,00` and Excel's 10.0 are one amount), anything else with spaces collapsed."""
    text = _plain(text)
    date = _DATE.fullmatch(text)
    if date:
        day, month, year = date.group(1, 2, 3) if date.group(1) else date.group(6, 5, 4)
        try:
            return datetime.date(int(year), int(month), int(day)).isoformat()
        except ValueError:
            return text
    if _ITALIAN_NUMBER.fullmatch(text):
        number = text.replace(".", "").replace(",", ".")
    elif _DOTTED_NUMBER.fullmatch(text):
        number = text
    else:
        return text
    try:
        return format(decimal.Decimal(number).normalize(), "f")
    except decimal.InvalidOperation:
        return text


def content_fingerprint(table):
    """A SHA-256 of what a read file (`read_cells`) says, not of its bytes: each row as
    {header name: value} (so the column order does not matter), the rows in any order, empty
    cells and rows left out, values as `_canonical_cell` reads them. The same data saved
    again (Windows line endings, Latin-1 or UTF-8 with or without a BOM, `;` or `,`, XLSX or
    CSV, the columns moved) has the same fingerprint. "" for an empty file."""
    if not table:
        return ""
    names, seen = [], {}
    keys = [_plain(name).casefold() for name in table[0][1]]
    for key in keys:
        seen[key] = seen.get(key, 0) + 1
        names.append(key if seen[key] == 1 else f"{key}#{seen[key]}")
    rows = []
    for _line, cells in table[1:]:
        row = sorted(
            (names[i] if i < len(names) else f"#{i}", _canonical_cell(cell))
            for i, cell in enumerate(cells)
            if _plain(cell)
        )
        if row:
            rows.append(row)
    headers = sorted(key for key in keys if key)
    payload = json.dumps([headers, sorted(rows)], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()
