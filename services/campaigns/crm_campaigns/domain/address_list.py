"""Uploaded address lists: recognising the file, reading its rows lazily, mapping columns to party fields and
validating each row.

A file that cannot be read at all raises (UnsupportedFile, MalformedFile); a mapping that does not fit the file
raises InvalidInput; a single bad row never raises but becomes a RejectedRow, so one typo does not cost the
whole import.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import PurePath
from typing import Any

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from crm_campaigns.domain import normalise
from crm_campaigns.domain.errors import InvalidInput, MalformedFile, UnsupportedFile

CSV, XLSX = "csv", "xlsx"
ACCEPTED = "only CSV and XLSX files are accepted"
EXTRA_CELLS = "__extra__"          # key of a row with more cells than the header: the row gets rejected

FIELDS = ("kind", "company_name", "first_name", "last_name", "street", "postal_code", "city", "country", "phone",
          "email", "line_of_business")
IGNORE = "ignore"
ATTRIBUTE_PREFIX = "attribute:"
ATTRIBUTE_TYPES = ("text", "number", "date", "boolean", "choice")
KINDS = ("company", "person")
MAX_LENGTHS = {"company_name": 200, "first_name": 200, "last_name": 200, "street": 200, "city": 100,
               "email": 254, "phone": 50, "line_of_business": 40}
MAX_TEXT_ATTRIBUTE = 500

_TEXT_EXTENSIONS = frozenset({".csv", ".txt", ".tsv"})
_ACCEPTED_EXTENSIONS = _TEXT_EXTENSIONS | {".xlsx", ""}
_ZIP = b"PK\x03\x04"
_OTHER_ZIP_DOCUMENTS = (b"word/", b"ppt/")
_SIGNATURES = (  # what people upload instead of a list, with what we tell them
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\xd0\xcf\x11\xe0", "an Excel 97-2003 (.xls) or other old Office file; save it as .xlsx or CSV"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\xff\xfe", "UTF-16 text; save it as CSV UTF-8"),
    (b"\xfe\xff", "UTF-16 text; save it as CSV UTF-8"),
)
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_DELIMITERS = (",", ";", "\t")
_SNIFF_CHARACTERS = 64 * 1024
_SNIFF_RECORDS = 20
_DECODE_CHUNK = 1024 * 1024
_XLSX_READ_ERRORS = (zipfile.BadZipFile, zlib.error, InvalidFileException, KeyError, ValueError, TypeError,
                     IndexError, AttributeError, SyntaxError, OSError, EOFError)  # SyntaxError: XML ParseError


# --- recognising the file ---------------------------------------------------------------------------------

def detect_format(filename: str, content_type: str | None, head: bytes) -> str:
    """"csv" or "xlsx", decided by the first bytes of the file (pass at least 8 KiB: a workbook is recognised by
    its `xl/` entries) and checked against the file name. Browsers label CSV files in many ways (often as
    application/vnd.ms-excel), so the declared content type only appears in the error message."""
    extension = PurePath(filename or "").suffix.lower()
    sent_as = f" (sent as {content_type})" if content_type else ""
    if extension not in _ACCEPTED_EXTENSIONS:
        raise UnsupportedFile(f"{filename} is a {extension} file{sent_as}: {ACCEPTED}", "file")
    found = _format_by_content(head, extension, sent_as)
    if found == XLSX and extension in _TEXT_EXTENSIONS:
        raise UnsupportedFile(f"{filename} is named {extension} but is an Excel workbook: rename it to .xlsx",
                              "file")
    if found == CSV and extension == ".xlsx":
        raise UnsupportedFile(f"{filename} is named .xlsx but is not an Excel workbook{sent_as}: {ACCEPTED}",
                              "file")
    return found


def _format_by_content(head: bytes, extension: str, sent_as: str) -> str:
    if not head:
        raise UnsupportedFile(f"the file is empty: {ACCEPTED}", "file")
    if head.startswith(_ZIP):
        if _is_workbook_archive(head, extension):
            return XLSX
        raise UnsupportedFile(f"the file is a ZIP archive but not an Excel workbook{sent_as}: {ACCEPTED}", "file")
    for signature, description in _SIGNATURES:
        if head.startswith(signature):
            raise UnsupportedFile(f"the file is {description}{sent_as}: {ACCEPTED}", "file")
    text = _decoded_head(head)
    if text is None:
        raise UnsupportedFile(f"the file holds binary data, not text{sent_as}: {ACCEPTED}", "file")
    if text.lstrip().startswith("<"):
        raise UnsupportedFile(f"the file is an HTML or XML document{sent_as}: {ACCEPTED}", "file")
    return CSV


def _is_workbook_archive(head: bytes, extension: str) -> bool:
    """Excel writes `[Content_Types].xml` first, openpyxl writes it last: an `xl/` entry is the sure sign. A
    .xlsx name will do when the head is too short to show one; reading it later tells a broken file apart."""
    if b"xl/" in head:
        return True
    return extension == ".xlsx" and not any(marker in head for marker in _OTHER_ZIP_DOCUMENTS)


def _decoded_head(head: bytes) -> str | None:
    """The head as text, or None when it is binary. The head may end inside a UTF-8 character."""
    if b"\x00" in head:
        return None
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        try:
            text = head.decode("cp1252")
        except UnicodeDecodeError:
            return None
    return None if _CONTROL_CHARACTERS.search(text) else text


# --- reading rows --------------------------------------------------------------------------------------------

Rows = Iterator[tuple[int, dict[str, str]]]


def read_table(content: bytes, file_format: str) -> tuple[list[str], Rows]:
    """The header row and a lazy iterator of (row number as a spreadsheet shows it, {header: cell text}).
    Fully empty rows are skipped. The iterator raises MalformedFile when the file breaks further down."""
    if file_format == CSV:
        return _read_csv(content)
    if file_format == XLSX:
        return _read_xlsx(content)
    raise UnsupportedFile(f"unknown file format {file_format!r}: {ACCEPTED}", "file")


def _read_csv(content: bytes) -> tuple[list[str], Rows]:
    encoding = _text_encoding(content)
    delimiter = _sniff_delimiter(_text_stream(content, encoding).read(_SNIFF_CHARACTERS))
    records = _numbered_csv_records(_text_stream(content, encoding), delimiter)
    _, header = _header(records)
    return header, _rows(records, header)


def _text_encoding(content: bytes) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes as such, else Windows-1252, the encoding Excel
    uses for "CSV" on a German Windows. Checked in chunks so the file is never held twice as text."""
    for encoding in ("utf-8-sig", "cp1252"):
        if _decodes_as(content, encoding):
            return encoding
    raise MalformedFile("the file is neither UTF-8 nor Windows-1252 text; save it as CSV UTF-8", "file")


def _decodes_as(content: bytes, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    view = memoryview(content)
    try:
        for start in range(0, len(view), _DECODE_CHUNK):
            decoder.decode(view[start:start + _DECODE_CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _text_stream(content: bytes, encoding: str) -> io.TextIOWrapper:
    # BytesIO shares the bytes object's buffer until written to, so this costs no copy of the file.
    return io.TextIOWrapper(io.BytesIO(content), encoding=encoding, newline="")


def _sniff_delimiter(sample: str) -> str:
    """The delimiter that splits the header into the most columns among those that keep the following rows at
    the header's width; a comma when none splits anything (a one-column file)."""
    lines = sample.splitlines(keepends=True)
    if len(sample) == _SNIFF_CHARACTERS and len(lines) > 1:
        lines = lines[:-1]           # the sample probably ends inside a line
    best, best_score = ",", (0, 0)
    for delimiter in _DELIMITERS:
        score = _delimiter_score(lines, delimiter)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _delimiter_score(lines: list[str], delimiter: str) -> tuple[int, int]:
    try:
        records = [r for r in csv.reader(lines, delimiter=delimiter) if r]   # [] is a blank line
    except csv.Error:
        return (0, 0)
    records = records[:_SNIFF_RECORDS]
    if not records or len(records[0]) < 2:
        return (0, 0)
    width = len(records[0])
    return (sum(1 for r in records if len(r) == width), width)


def _numbered_csv_records(stream: io.TextIOWrapper, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    # One record is one spreadsheet row even when a quoted cell spans several lines.
    reader = csv.reader(stream, delimiter=delimiter)
    row_number = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise MalformedFile(f"row {row_number + 1} cannot be read ({exc}); a quote may be left open",
                                "file") from exc
        row_number += 1
        yield row_number, record


def _read_xlsx(content: bytes) -> tuple[list[str], Rows]:
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except _XLSX_READ_ERRORS as exc:
        raise MalformedFile("the Excel workbook is damaged and cannot be read", "file") from exc
    try:
        if not workbook.worksheets:
            raise MalformedFile("the Excel workbook has no worksheet", "file")
        records = _numbered_sheet_records(workbook.worksheets[0])
        _, header = _header(records)
    except BaseException:
        workbook.close()
        raise
    return header, _closing(_rows(records, header), workbook)


def _numbered_sheet_records(sheet) -> Iterator[tuple[int, list[str]]]:
    # openpyxl yields empty rows for the gaps, so counting gives the row numbers Excel shows.
    try:
        for row_number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield row_number, [cell_text(value) for value in values]
    except _XLSX_READ_ERRORS as exc:
        raise MalformedFile("the Excel workbook is damaged and cannot be read to the end", "file") from exc


def _closing(rows: Rows, workbook) -> Rows:
    try:
        yield from rows
    finally:
        workbook.close()


def cell_text(value: Any) -> str:
    """A cell as the user typed it: whole numbers without ".0" (postal codes), dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.15g}"   # Excel keeps 15 significant digits
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _header(records: Iterator[tuple[int, list[str]]]) -> tuple[int, list[str]]:
    for row_number, values in records:
        names = [v.strip() for v in values]
        while names and not names[-1]:
            names.pop()           # spreadsheets often carry empty columns after the last used one
        if names:
            _check_header(row_number, names)
            return row_number, names
    raise MalformedFile("the file has no header row", "file")


def _check_header(row_number: int, names: list[str]) -> None:
    seen: set[str] = set()
    for column, name in enumerate(names, start=1):
        if not name:
            raise MalformedFile(f"column {column} of the header row (row {row_number}) has no name", "file")
        if name == EXTRA_CELLS:
            raise MalformedFile(f"{EXTRA_CELLS} cannot be a column name", "file")
        if name.casefold() in seen:
            raise MalformedFile(f"the header row (row {row_number}) names the column '{name}' twice", "file")
        seen.add(name.casefold())


def _rows(records: Iterator[tuple[int, list[str]]], header: list[str]) -> Rows:
    for row_number, values in records:
        if any(v.strip() for v in values):
            yield row_number, _cells(header, values)


def _cells(header: list[str], values: list[str]) -> dict[str, str]:
    cells = dict(zip(header, values, strict=False))
    for name in header[len(values):]:
        cells[name] = ""
    extra = sum(1 for v in values[len(header):] if v.strip())
    if extra:
        cells[EXTRA_CELLS] = str(extra)
    return cells


# --- column mapping ------------------------------------------------------------------------------------------

def validate_mapping(headers: Iterable[str], mapping: dict[str, str], attribute_types: dict[str, str]) -> None:
    """A mapping is {file column: target}; a target is a field of FIELDS, `attribute:<name>` or `ignore`.
    Columns left out are ignored."""
    known_headers = set(headers)
    if not isinstance(mapping, dict) or not mapping:
        raise InvalidInput("map at least the name and postal code columns", "mapping")
    targeted: dict[str, str] = {}
    for column, target in mapping.items():
        _check_mapped_column(column, target, known_headers, attribute_types)
        if target == IGNORE:
            continue
        if target in targeted:
            raise InvalidInput(f"'{target}' is mapped from both '{targeted[target]}' and '{column}'",
                               f"mapping.{column}")
        targeted[target] = column
    if "company_name" not in targeted and "last_name" not in targeted:
        raise InvalidInput("map a column to company_name or last_name: a party needs a name", "mapping")
    if "postal_code" not in targeted:
        raise InvalidInput("map a column to postal_code: every row needs one", "mapping")


def _check_mapped_column(column: Any, target: Any, known_headers: set[str], attribute_types: dict[str, str]):
    field_name = f"mapping.{column}"
    if not isinstance(column, str) or column not in known_headers:
        raise InvalidInput(f"the file has no column '{column}'", field_name)
    if not isinstance(target, str):
        raise InvalidInput(f"the target of column '{column}' must be text", field_name)
    if target in FIELDS or target == IGNORE:
        return
    if not target.startswith(ATTRIBUTE_PREFIX):
        raise InvalidInput(f"column '{column}': unknown target '{target}'; use one of {', '.join(FIELDS)}, "
                           f"attribute:<name> or {IGNORE}", field_name)
    attribute = target.removeprefix(ATTRIBUTE_PREFIX)
    if attribute not in attribute_types:
        raise InvalidInput(f"column '{column}': there is no attribute '{attribute}'", field_name)
    if attribute_types[attribute] not in ATTRIBUTE_TYPES:
        raise InvalidInput(f"column '{column}': attribute '{attribute}' has the unknown type "
                           f"'{attribute_types[attribute]}'", field_name)


# --- rows ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AddressRow:
    row_number: int
    kind: str
    company_name: str | None
    first_name: str | None
    last_name: str | None
    street: str | None
    postal_code: str
    city: str | None
    country: str
    phone: str | None
    email: str | None
    line_of_business: str
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def display_name(self) -> str:
        """As the customers service shows a party: the company name, or a person's first and last name."""
        if self.kind == "company":
            return self.company_name or ""
        return " ".join(n for n in (self.first_name, self.last_name) if n)

    @property
    def dedupe_keys(self) -> list[str]:
        return normalise.dedupe_keys(self.display_name, self.postal_code, self.phone, self.email,
                                     calling_code=normalise.calling_code_for(self.country))


@dataclass(frozen=True)
class RejectedRow:
    row_number: int
    reason: str
    field: str | None = None


class _Rejection(Exception):
    def __init__(self, reason: str, field_name: str | None):
        super().__init__(reason)
        self.reason = reason
        self.field = field_name


_POSTAL_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 \-]{1,8}[A-Za-z0-9]$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_LINE_OF_BUSINESS = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_DECIMAL = re.compile(r"^[+-]?\d*[.,]\d+$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_GERMAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_BOOLEANS = {"true": True, "yes": True, "ja": True, "1": True, "false": False, "no": False, "nein": False, "0": False}


def parse_row(row_number: int, cells: dict[str, str], mapping: dict[str, str], *, default_line_of_business: str,
              default_country: str = "DE", attribute_types: dict[str, str],
              attribute_choices: dict[str, list[str]]) -> AddressRow | RejectedRow:
    """One row of a file whose mapping passed validate_mapping. A bad row gives a RejectedRow naming the first
    problem found; this never raises for what is in the cells."""
    try:
        return _RowReader(row_number, cells, mapping).address_row(
            default_line_of_business, default_country, attribute_types, attribute_choices)
    except _Rejection as rejection:
        return RejectedRow(row_number, rejection.reason, rejection.field)


class _RowReader:
    """The mapped, trimmed cells of one row, and the checks on them."""

    def __init__(self, row_number: int, cells: dict[str, str], mapping: dict[str, str]):
        if cells.get(EXTRA_CELLS):
            raise _Rejection(f"row {row_number} has {cells[EXTRA_CELLS]} more cell(s) than the header row has "
                             "columns", None)
        self.row_number = row_number
        self.columns = {target: column for column, target in mapping.items() if target != IGNORE}
        self.values = {target: (cells.get(column) or "").strip() for target, column in self.columns.items()}

    def address_row(self, default_line_of_business: str, default_country: str, attribute_types: dict[str, str],
                    attribute_choices: dict[str, list[str]]) -> AddressRow:
        kind = self.kind()
        country = self.country(default_country)
        return AddressRow(
            row_number=self.row_number, kind=kind, company_name=self.name("company_name", required=kind == "company"),
            first_name=self.text("first_name"), last_name=self.name("last_name", required=kind == "person"),
            street=self.text("street"), postal_code=self.postal_code(), city=self.text("city"), country=country,
            phone=self.phone(country), email=self.email(),
            line_of_business=self.line_of_business(default_line_of_business),
            attributes=self.attributes(attribute_types, attribute_choices))

    def where(self, target: str) -> str:
        column = self.columns.get(target)
        return f"column '{column}'" if column is not None else f"no column is mapped to {target}, so"

    def text(self, target: str) -> str | None:
        value = self.values.get(target, "")
        limit = MAX_LENGTHS.get(target)
        if limit is not None and len(value) > limit:
            raise _Rejection(f"{self.where(target)}: longer than {limit} characters", target)
        return value or None

    def kind(self) -> str:
        value = self.values.get("kind", "").casefold()
        if value in KINDS:
            return value
        if value:
            raise _Rejection(f"{self.where('kind')}: '{_shown(value)}' is neither company nor person", "kind")
        return "company" if self.values.get("company_name") else "person"

    def name(self, target: str, required: bool) -> str | None:
        value = self.text(target)
        if required and not value:
            who = "a company" if target == "company_name" else "a person"
            raise _Rejection(f"{self.where(target)}: {who} needs a {target.replace('_', ' ')}", target)
        return value

    def postal_code(self) -> str:
        value = self.values.get("postal_code", "")
        if not value:
            raise _Rejection(f"{self.where('postal_code')}: the postal code is missing", "postal_code")
        if not _POSTAL_CODE.match(value):
            raise _Rejection(f"{self.where('postal_code')}: '{_shown(value)}' is not a postal code", "postal_code")
        return value

    def country(self, default_country: str) -> str:
        value = (self.values.get("country") or default_country).upper()
        if not _COUNTRY.match(value):
            raise _Rejection(f"{self.where('country')}: '{_shown(value)}' is not a two-letter country code such "
                             "as DE", "country")
        return value

    def phone(self, country: str) -> str | None:
        value = self.text("phone")
        if value and normalise.phone_key(value, normalise.calling_code_for(country)) is None:
            raise _Rejection(f"{self.where('phone')}: '{_shown(value)}' is not a phone number", "phone")
        return value

    def email(self) -> str | None:
        value = self.text("email")
        if value and normalise.email_key(value) is None:
            raise _Rejection(f"{self.where('email')}: '{_shown(value)}' is not an e-mail address", "email")
        return value

    def line_of_business(self, default: str) -> str:
        value = (self.text("line_of_business") or default).lower()
        if not _LINE_OF_BUSINESS.match(value):
            raise _Rejection(f"{self.where('line_of_business')}: '{_shown(value)}' is not a line of business code",
                             "line_of_business")
        return value

    def attributes(self, types: dict[str, str], choices: dict[str, list[str]]) -> dict[str, Any]:
        converted = {}
        for target, value in self.values.items():
            if not target.startswith(ATTRIBUTE_PREFIX) or not value:
                continue
            name = target.removeprefix(ATTRIBUTE_PREFIX)
            attribute_type, allowed = types.get(name, ""), choices.get(name, [])
            result = attribute_value(attribute_type, value, allowed)
            if result is None:
                expected = _expected(attribute_type, allowed)
                raise _Rejection(f"{self.where(target)}: '{_shown(value)}' is not {expected}", target)
            converted[name] = result
        return converted


def attribute_value(attribute_type: str, text: str, choices: list[str]) -> Any:
    """The typed value of a non-empty cell, or None when the text does not fit the type."""
    converter = _CONVERTERS.get(attribute_type)
    if converter is None:
        return None
    return converter(text.strip(), choices)


def _number(text: str, _choices: list[str]) -> int | float | None:
    if _INTEGER.match(text):
        return int(text)
    if _DECIMAL.match(text):
        return float(text.replace(",", "."))   # a German decimal comma
    return None


def _boolean(text: str, _choices: list[str]) -> bool | None:
    return _BOOLEANS.get(text.casefold())


def _date(text: str, _choices: list[str]) -> date | None:
    iso, german = _ISO_DATE.match(text), _GERMAN_DATE.match(text)
    if iso:
        year, month, day = iso.groups()
    elif german:
        day, month, year = german.groups()
    else:
        return None
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _choice(text: str, choices: list[str]) -> str | None:
    # The defined spelling wins: "GOLD" in the file is stored as "gold" when that is the choice.
    return next((c for c in choices if c.casefold() == text.casefold()), None)


def _text(text: str, _choices: list[str]) -> str | None:
    return text if len(text) <= MAX_TEXT_ATTRIBUTE else None


_CONVERTERS = {"number": _number, "boolean": _boolean, "date": _date, "choice": _choice, "text": _text}


def _expected(attribute_type: str, choices: list[str]) -> str:
    if attribute_type == "choice":
        return f"one of {', '.join(choices)}" if choices else "a choice (none are defined)"
    return {"number": "a number", "boolean": "yes or no (true/false, ja/nein, 1/0)",
            "date": "a date (YYYY-MM-DD or DD.MM.YYYY)",
            "text": f"a text of at most {MAX_TEXT_ATTRIBUTE} characters"}.get(attribute_type, "a known attribute")


def _shown(value: str) -> str:
    """A cell quoted in a reason: long ones cut short so the reason stays readable."""
    return value if len(value) <= 40 else value[:37] + "..."
