"""Uploaded address lists: recognising the file, reading rows, the column mapping and the checks on each row."""
from __future__ import annotations

import io
import random
import tracemalloc
import zipfile
from datetime import date, datetime

import openpyxl
import pytest

from crm_campaigns.domain.address_list import (EXTRA_CELLS, AddressRow, RejectedRow, detect_format, parse_row,
                                               read_table, validate_mapping)
from crm_campaigns.domain.errors import InvalidInput, MalformedFile, UnsupportedFile

ATTRIBUTE_TYPES = {"employees": "number", "newsletter": "boolean", "founded": "date", "tier": "choice",
                   "notes": "text"}
ATTRIBUTE_CHOICES = {"tier": ["gold", "silver"]}
MAPPING = {"Typ": "kind", "Firma": "company_name", "Vorname": "first_name", "Nachname": "last_name",
           "Straße": "street", "PLZ": "postal_code", "Ort": "city", "Land": "country", "Telefon": "phone",
           "E-Mail": "email", "Sparte": "line_of_business", "Mitarbeiter": "attribute:employees",
           "Newsletter": "attribute:newsletter", "Gegründet": "attribute:founded", "Stufe": "attribute:tier",
           "Notiz": "attribute:notes", "Intern": "ignore"}


def xlsx(*rows, sheets=None) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    for title, sheet_rows in (sheets or {}).items():
        sheet = workbook.create_sheet(title)
        for row in sheet_rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def zip_of(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def with_entry_replaced(workbook: bytes, name: str, data: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(workbook))
    return zip_of({info.filename: data if info.filename == name else source.read(info.filename)
                   for info in source.infolist()})


def rows_of(content: bytes, file_format: str = "csv"):
    header, rows = read_table(content, file_format)
    return header, list(rows)


def parse(cells: dict[str, str], mapping=None, **options):
    options = {"default_line_of_business": "heating", "attribute_types": ATTRIBUTE_TYPES,
               "attribute_choices": ATTRIBUTE_CHOICES, **options}
    return parse_row(7, cells, MAPPING if mapping is None else mapping, **options)


def company(**cells) -> dict[str, str]:
    return {"Firma": "Müller GmbH", "PLZ": "10115", **cells}


def rejected(result, field: str | None) -> str:
    assert isinstance(result, RejectedRow), result
    assert result.row_number == 7
    assert result.field == field
    return result.reason


# --- detect_format -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("filename", "head"), [
    ("liste.csv", b"Firma;PLZ\nM\xc3\xbcller;10115\n"),
    ("liste.CSV", b"\xef\xbb\xbfFirma;PLZ\n"),
    ("liste.txt", b"Firma;PLZ\nM\xfcller;10115\n"),
    ("liste.tsv", b"Firma\tPLZ\n"),
    ("liste", b"Firma,PLZ\n"),
    ("liste.csv", b"Firma;PLZ\nM\xc3"),          # the head ends inside a UTF-8 character
])
def test_text_is_csv(filename, head):
    assert detect_format(filename, "application/vnd.ms-excel", head) == "csv"


def test_a_workbook_is_xlsx():
    assert detect_format("liste.xlsx", None, xlsx(["Firma"])[:8192]) == "xlsx"
    assert detect_format("liste", None, xlsx(["Firma"])[:8192]) == "xlsx"


def test_a_head_too_short_to_show_xl_entries_relies_on_the_xlsx_name():
    assert detect_format("liste.xlsx", None, xlsx(["Firma"])[:4]) == "xlsx"
    with pytest.raises(UnsupportedFile):
        detect_format("liste", None, xlsx(["Firma"])[:4])


@pytest.mark.parametrize(("filename", "head", "says"), [
    ("liste.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF"),
    ("liste.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
    ("liste.csv", b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG"),
    ("liste.csv", b"", "empty"),
    ("liste.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), ".xls"),
    ("liste.csv", bytes(range(256)), "binary"),
    ("liste.csv", b"\x01\x02\x03garbage\x04", "binary"),
    ("liste.csv", "Firma;PLZ\n".encode("utf-16"), "UTF-16"),
    ("liste.csv", b"<!DOCTYPE html><html><table>", "HTML"),
    ("brief.docx", zip_of({"[Content_Types].xml": b"x", "word/document.xml": b"x"}), ".docx"),
    ("liste.xlsx", zip_of({"[Content_Types].xml": b"x", "word/document.xml": b"x"}), "ZIP"),
    ("liste.zip", zip_of({"a.csv": b"x"}), ".zip"),
    ("liste", zip_of({"a.csv": b"x"}), "ZIP"),
    ("liste.xls", b"Firma;PLZ\n", ".xls"),
    ("liste.pdf", b"Firma;PLZ\n", ".pdf"),
])
def test_anything_else_is_refused_saying_what_is_accepted(filename, head, says):
    with pytest.raises(UnsupportedFile) as refused:
        detect_format(filename, None, head)
    assert "CSV and XLSX" in refused.value.message
    assert says in refused.value.message


def test_the_content_must_agree_with_the_file_name():
    with pytest.raises(UnsupportedFile, match="named .csv but is an Excel workbook"):
        detect_format("liste.csv", None, xlsx(["Firma"]))
    with pytest.raises(UnsupportedFile, match="named .xlsx but is not an Excel workbook"):
        detect_format("liste.xlsx", None, b"Firma;PLZ\n")


def test_the_declared_content_type_is_named_in_the_refusal():
    with pytest.raises(UnsupportedFile, match=r"sent as application/pdf"):
        detect_format("liste", "application/pdf", b"%PDF-1.4")


# --- read_table: CSV -----------------------------------------------------------------------------------------

def test_csv_with_semicolons_and_a_byte_order_mark():
    content = "\ufeffFirma;PLZ;Ort\nMüller GmbH;10115;Berlin\nSchmidt AG;80331;München\n".encode()
    assert rows_of(content) == (["Firma", "PLZ", "Ort"], [
        (2, {"Firma": "Müller GmbH", "PLZ": "10115", "Ort": "Berlin"}),
        (3, {"Firma": "Schmidt AG", "PLZ": "80331", "Ort": "München"})])


def test_csv_in_windows_1252():
    content = "Firma;Straße\nMüller;Große Straße 1 – Hof\n".encode("cp1252")
    assert rows_of(content) == (["Firma", "Straße"], [(2, {"Firma": "Müller", "Straße": "Große Straße 1 – Hof"})])


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_the_delimiter_is_sniffed(delimiter):
    content = delimiter.join(["Firma", "PLZ", "Ort"]).encode() + b"\n" + delimiter.join(["A", "1", "B"]).encode()
    assert rows_of(content)[0] == ["Firma", "PLZ", "Ort"]


def test_commas_inside_a_semicolon_file_do_not_fool_the_sniffer():
    content = "Name, Vorname;PLZ;Ort\nMüller, Anna;10115;Berlin\nSchmidt, Bernd;80331;München\n".encode()
    header, rows = rows_of(content)
    assert header == ["Name, Vorname", "PLZ", "Ort"]
    assert rows[0] == (2, {"Name, Vorname": "Müller, Anna", "PLZ": "10115", "Ort": "Berlin"})


def test_a_one_column_file():
    assert rows_of(b"E-Mail\na@b.de\n") == (["E-Mail"], [(2, {"E-Mail": "a@b.de"})])


def test_quoted_fields_may_hold_delimiters_quotes_and_newlines():
    content = b'Firma;Notiz;PLZ\n"M\xc3\xbcller; Sohn";"zwei\nZeilen mit ""Zitat""";10115\nSchmidt;x;80331\n'
    assert rows_of(content)[1] == [
        (2, {"Firma": "Müller; Sohn", "Notiz": 'zwei\nZeilen mit "Zitat"', "PLZ": "10115"}),
        (3, {"Firma": "Schmidt", "Notiz": "x", "PLZ": "80331"})]


def test_empty_rows_are_skipped_but_keep_their_row_number():
    content = b"Firma;PLZ\nA;1\n\n;\n  ;  \nB;2\n"
    assert [number for number, _ in rows_of(content)[1]] == [2, 6]


def test_short_rows_are_padded_with_empty_cells():
    assert rows_of(b"Firma;PLZ;Ort\nA;1\n")[1] == [(2, {"Firma": "A", "PLZ": "1", "Ort": ""})]


def test_a_row_with_more_cells_than_the_header_is_marked_not_refused():
    header, rows = rows_of(b"Firma;PLZ\nA;1;x;y\nB;2\n")
    assert rows[0] == (2, {"Firma": "A", "PLZ": "1", EXTRA_CELLS: "2"})
    assert rows[1] == (3, {"Firma": "B", "PLZ": "2"})


def test_trailing_empty_cells_are_not_extra_cells():
    assert rows_of(b"Firma;PLZ;;\nA;1;;\n") == (["Firma", "PLZ"], [(2, {"Firma": "A", "PLZ": "1"})])


def test_the_header_may_follow_blank_lines_and_keeps_its_row_number():
    assert rows_of(b"\n\nFirma;PLZ\nA;1\n") == (["Firma", "PLZ"], [(4, {"Firma": "A", "PLZ": "1"})])


@pytest.mark.parametrize(("content", "says"), [
    (b"", "no header row"),
    (b"\n\n;;\n", "no header row"),
    (b"Firma;PLZ;firma\nA;1;2\n", "twice"),
    (b"Firma;;PLZ\nA;1;2\n", "column 2"),
    (b"Firma;__extra__\nA;1\n", "__extra__"),
    (b"Firma;PLZ\n\x81\x8d\x8f;1\n", "neither UTF-8 nor Windows-1252"),
])
def test_unreadable_csv_files_are_malformed(content, says):
    with pytest.raises(MalformedFile, match=says):
        read_table(content, "csv")


def test_rows_are_read_lazily_so_a_broken_row_shows_only_when_reached():
    content = b'Firma;PLZ\nA;1\n"' + b"x" * 200_000 + b"\nB;2\n"
    header, rows = read_table(content, "csv")
    assert header == ["Firma", "PLZ"]
    assert next(rows) == (2, {"Firma": "A", "PLZ": "1"})
    with pytest.raises(MalformedFile, match="row 3"):
        next(rows)


def test_an_unknown_format_is_unsupported():
    with pytest.raises(UnsupportedFile):
        read_table(b"Firma\n", "xls")


def test_reading_a_large_csv_streams():
    lines = ["Firma;Vorname;Nachname;PLZ;Ort;Telefon;E-Mail"] + [
        f"Firma {i} GmbH;Anna;Schmidt-{i};{10000 + i % 89999};Berlin;030 {1000000 + i};info{i}@firma{i}.de"
        for i in range(100_000)]
    content = "\n".join(lines).encode()
    del lines
    tracemalloc.start()
    try:
        header, rows = read_table(content, "csv")
        count, last = 0, None
        for count, last in enumerate(rows, start=1):  # noqa: B007 - the loop only walks the file
            pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 100_000
    assert last == (100_001, {"Firma": "Firma 99999 GmbH", "Vorname": "Anna", "Nachname": "Schmidt-99999",
                              "PLZ": str(10000 + 99999 % 89999), "Ort": "Berlin", "Telefon": "030 1099999",
                              "E-Mail": "info99999@firma99999.de"})
    # Measured about 2 MiB for this 8 MiB file: the 1 MiB decoding chunks plus one row. Holding the rows, or the
    # file as one string, would pass 8 MiB.
    assert len(content) > 7 * 2**20
    assert peak < 4 * 2**20


# --- read_table: XLSX ----------------------------------------------------------------------------------------

def test_xlsx_numbers_dates_and_booleans_come_out_as_the_user_typed_them():
    content = xlsx(["Firma", "PLZ", "Umsatz", "Gegründet", "Termin", "Aktiv", "Leer"],
                   ["Müller", 10115, 12.5, date(2024, 1, 2), datetime(2024, 1, 2, 13, 45), True, None],
                   ["Schmidt", 80331.0, 3.0, datetime(2023, 12, 31), None, False, None])
    assert rows_of(content, "xlsx")[1] == [
        (2, {"Firma": "Müller", "PLZ": "10115", "Umsatz": "12.5", "Gegründet": "2024-01-02",
             "Termin": "2024-01-02 13:45:00", "Aktiv": "true", "Leer": ""}),
        (3, {"Firma": "Schmidt", "PLZ": "80331", "Umsatz": "3", "Gegründet": "2023-12-31", "Termin": "",
             "Aktiv": "false", "Leer": ""})]


def test_xlsx_empty_rows_are_skipped_and_row_numbers_match_excel():
    content = xlsx(["Firma", "PLZ"], ["A", 1], [], [None, None], ["B", 2])
    assert rows_of(content, "xlsx") == (["Firma", "PLZ"], [(2, {"Firma": "A", "PLZ": "1"}),
                                                          (5, {"Firma": "B", "PLZ": "2"})])


def test_xlsx_reads_the_first_sheet_only():
    content = xlsx(["Firma"], ["A"], sheets={"Zweites": [["Anderes"], ["B"]]})
    assert rows_of(content, "xlsx") == (["Firma"], [(2, {"Firma": "A"})])


def test_xlsx_extra_cells_are_marked_and_numeric_headers_read_as_text():
    content = xlsx(["Firma", 2024], ["A", 1, "zu viel"])
    assert rows_of(content, "xlsx") == (["Firma", "2024"], [(2, {"Firma": "A", "2024": "1", EXTRA_CELLS: "1"})])


@pytest.mark.parametrize(("content", "says"), [
    (xlsx(), "no header row"),
    (xlsx(["Firma", "Firma"]), "twice"),
    (xlsx(["Firma", None, "PLZ"]), "column 2"),
    (xlsx(["Firma"])[:2000], "damaged"),
    (b"PK\x03\x04" + bytes(500), "damaged"),
    (zip_of({"[Content_Types].xml": b"<Types/>"}), "damaged"),
    (with_entry_replaced(xlsx(["Firma"]), "xl/workbook.xml", b"<garbage"), "damaged"),
    (with_entry_replaced(xlsx(["Firma"]), "xl/worksheets/sheet1.xml", b"<garbage"), "damaged"),
])
def test_unreadable_workbooks_are_malformed(content, says):
    with pytest.raises(MalformedFile, match=says):
        rows_of(content, "xlsx")


def test_a_workbook_broken_after_the_header_fails_when_iterated():
    sheet = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             b'<dimension ref="A1:A3"/><sheetData>'
             b'<row r="1"><c r="A1" t="inlineStr"><is><t>Firma</t></is></c></row>'
             b'<row r="2"><c r="A2" t="inlineStr"><is><t>A</t></is></c></row><row r="3"><c')
    header, rows = read_table(with_entry_replaced(xlsx(["x"]), "xl/worksheets/sheet1.xml", sheet), "xlsx")
    assert header == ["Firma"]
    with pytest.raises(MalformedFile, match="to the end"):
        list(rows)


# --- validate_mapping ----------------------------------------------------------------------------------------

HEADERS = list(MAPPING)


def test_a_complete_mapping_is_valid():
    validate_mapping(HEADERS, MAPPING, ATTRIBUTE_TYPES)


def test_a_person_list_needs_only_last_name_and_postal_code_and_ignore_may_repeat():
    validate_mapping(["Name", "PLZ", "A", "B"], {"Name": "last_name", "PLZ": "postal_code", "A": "ignore",
                                                 "B": "ignore"}, {})


@pytest.mark.parametrize(("mapping", "field", "says"), [
    ({"Fax": "phone", "Firma": "company_name", "PLZ": "postal_code"}, "mapping.Fax", "no column 'Fax'"),
    ({"Ort": "town", "Firma": "company_name", "PLZ": "postal_code"}, "mapping.Ort", "unknown target 'town'"),
    ({"Ort": "attribute:size", "Firma": "company_name", "PLZ": "postal_code"}, "mapping.Ort", "no attribute 'size'"),
    ({"Ort": "attribute:odd", "Firma": "company_name", "PLZ": "postal_code"}, "mapping.Ort", "unknown type"),
    ({"Firma": "company_name", "Ort": "company_name", "PLZ": "postal_code"}, "mapping.Ort", "both 'Firma' and"),
    ({"Ort": "city", "PLZ": "postal_code", "Vorname": "first_name"}, "mapping", "company_name or last_name"),
    ({"Firma": "company_name", "Ort": "city"}, "mapping", "postal_code"),
    ({}, "mapping", "at least"),
    ({"Firma": None, "PLZ": "postal_code"}, "mapping.Firma", "must be text"),
])
def test_mapping_errors_name_the_column(mapping, field, says):
    with pytest.raises(InvalidInput) as refused:
        validate_mapping(HEADERS, mapping, {**ATTRIBUTE_TYPES, "odd": "colour"})
    assert refused.value.field == field
    assert says in refused.value.message


# --- parse_row -----------------------------------------------------------------------------------------------

def test_a_full_company_row():
    cells = {"Typ": " Company ", "Firma": " Müller GmbH ", "Vorname": "Anna", "Nachname": "Schmidt",
             "Straße": "Hauptstr. 1", "PLZ": "10115", "Ort": "Berlin", "Land": "de", "Telefon": "030 1234567",
             "E-Mail": "info@mueller.de", "Sparte": "Sanitary", "Mitarbeiter": "42", "Newsletter": "ja",
             "Gegründet": "01.03.1990", "Stufe": "GOLD", "Notiz": "Stammkunde", "Intern": "geheim"}
    assert parse(cells) == AddressRow(
        row_number=7, kind="company", company_name="Müller GmbH", first_name="Anna", last_name="Schmidt",
        street="Hauptstr. 1", postal_code="10115", city="Berlin", country="DE", phone="030 1234567",
        email="info@mueller.de", line_of_business="sanitary",
        attributes={"employees": 42, "newsletter": True, "founded": date(1990, 3, 1), "tier": "gold",
                    "notes": "Stammkunde"})


def test_defaults_and_empty_cells():
    row = parse(company(Ort="", Telefon="  ", Mitarbeiter=""))
    assert (row.country, row.line_of_business, row.city, row.phone, row.email, row.attributes) == (
        "DE", "heating", None, None, None, {})
    assert parse(company(), default_country="AT").country == "AT"


def test_kind_follows_the_company_name_when_no_kind_is_given():
    assert parse(company()).kind == "company"
    person = parse({"Vorname": "Anna", "Nachname": "Schmidt", "PLZ": "10115"})
    assert (person.kind, person.display_name) == ("person", "Anna Schmidt")


def test_kind_column_is_read_case_insensitively():
    assert parse(company(Typ="PERSON", Nachname="Schmidt")).kind == "person"


def test_kind_must_be_company_or_person():
    assert "column 'Typ'" in rejected(parse(company(Typ="Firma")), "kind")


def test_a_company_needs_a_company_name():
    reason = rejected(parse({"Typ": "company", "Nachname": "Schmidt", "PLZ": "10115"}), "company_name")
    assert "column 'Firma'" in reason and "company name" in reason


def test_a_person_needs_a_last_name():
    assert "column 'Nachname'" in rejected(parse({"Vorname": "Anna", "PLZ": "10115"}), "last_name")
    reason = rejected(parse({"Typ": "person", "Firma": "X", "PLZ": "1"}, {"Typ": "kind", "Firma": "company_name",
                                                                         "PLZ": "postal_code"}), "last_name")
    assert "no column is mapped to last_name" in reason


@pytest.mark.parametrize("code", ["", "1", "12", "12345678901", "10115!", "-1011", "10\n115"])
def test_postal_code_is_required_and_plausible(code):
    assert "column 'PLZ'" in rejected(parse(company(PLZ=code)), "postal_code")


@pytest.mark.parametrize("code", ["123", "10115", "1011 AB", "SW1A 1AA", "A-1010", "1234567890"])
def test_plausible_postal_codes(code):
    assert parse(company(PLZ=code)).postal_code == code


def test_e_mail_must_look_valid_when_present():
    assert "column 'E-Mail'" in rejected(parse(company(**{"E-Mail": "info(at)mueller.de"})), "email")


def test_phone_must_be_a_phone_number_when_present():
    assert "column 'Telefon'" in rejected(parse(company(Telefon="nur vormittags")), "phone")
    assert parse(company(Telefon="+49 30 1234567")).phone == "+49 30 1234567"


def test_country_must_be_a_two_letter_code():
    assert parse(company(Land="nl")).country == "NL"
    assert "column 'Land'" in rejected(parse(company(Land="Deutschland")), "country")


def test_the_country_sets_the_calling_code_of_the_dedupe_key():
    row = parse(company(Land="NL", Telefon="020 1234567", **{"E-Mail": "Info@Mueller.nl"}))
    assert row.dedupe_keys == ["muller|10115|31201234567", "muller|10115|info@mueller.nl"]


def test_line_of_business_must_be_a_code():
    assert "column 'Sparte'" in rejected(parse(company(Sparte="Heizung & Sanitär")), "line_of_business")


@pytest.mark.parametrize(("column", "field", "limit"), [("Firma", "company_name", 200), ("Vorname", "first_name", 200),
                                                        ("Nachname", "last_name", 200), ("Straße", "street", 200),
                                                        ("Ort", "city", 100)])
def test_field_lengths_are_capped(column, field, limit):
    assert isinstance(parse(company(**{column: "x" * limit})), AddressRow)
    assert f"column '{column}'" in rejected(parse(company(**{column: "x" * (limit + 1)})), field)


@pytest.mark.parametrize(("column", "text", "value"), [
    ("Mitarbeiter", "42", 42), ("Mitarbeiter", "-3", -3), ("Mitarbeiter", "3,5", 3.5), ("Mitarbeiter", "0.25", 0.25),
    ("Newsletter", "true", True), ("Newsletter", "Yes", True), ("Newsletter", "1", True), ("Newsletter", "JA", True),
    ("Newsletter", "false", False), ("Newsletter", "no", False), ("Newsletter", "0", False),
    ("Newsletter", "Nein", False),
    ("Gegründet", "2024-03-01", date(2024, 3, 1)), ("Gegründet", "1.3.2024", date(2024, 3, 1)),
    ("Stufe", "Silver", "silver"), ("Notiz", "x" * 500, "x" * 500),
])
def test_attribute_cells_are_converted_by_type(column, text, value):
    name = MAPPING[column].removeprefix("attribute:")
    converted = parse(company(**{column: text})).attributes[name]
    assert converted == value and type(converted) is type(value)


@pytest.mark.parametrize(("column", "text", "says"), [
    ("Mitarbeiter", "viele", "a number"), ("Mitarbeiter", "1.234,5", "a number"), ("Mitarbeiter", "nan", "a number"),
    ("Newsletter", "vielleicht", "yes or no"),
    ("Gegründet", "2024-02-30", "a date"), ("Gegründet", "03/01/2024", "a date"), ("Gegründet", "2024", "a date"),
    ("Stufe", "bronze", "one of gold, silver"), ("Notiz", "x" * 501, "at most 500"),
])
def test_attribute_cells_that_do_not_fit_their_type_reject_the_row(column, text, says):
    reason = rejected(parse(company(**{column: text})), MAPPING[column])
    assert f"column '{column}'" in reason and says in reason


def test_a_choice_attribute_without_choices_rejects_any_value():
    assert "none are defined" in rejected(parse(company(Stufe="gold"), attribute_choices={}), "attribute:tier")


def test_a_row_with_extra_cells_is_rejected():
    assert "2 more cell(s)" in rejected(parse(company(**{EXTRA_CELLS: "2"})), None)


def test_mapped_columns_missing_from_the_cells_count_as_empty():
    assert parse({"Firma": "Müller"}).row_number == 7
    assert isinstance(parse({"Firma": "Müller"}), RejectedRow)


def test_a_long_cell_is_cut_short_in_the_reason():
    reason = rejected(parse(company(Telefon="x" * 45)), "phone")
    assert "x" * 37 + "..." in reason and "x" * 38 not in reason


def test_parse_row_never_raises_whatever_the_cells_hold():
    generator = random.Random(20240601)
    alphabet = "aZ09 .,;:-+@/()&'\"äöüß\u00a0\t\n\x00€"
    for _ in range(2000):
        cells = {column: "".join(generator.choices(alphabet, k=generator.randint(0, 12))) for column in MAPPING}
        assert isinstance(parse(cells), AddressRow | RejectedRow)


def test_a_person_row_dedupes_against_its_display_name():
    row = parse({"Vorname": "Jürgen", "Nachname": "Groß", "PLZ": "10 115", "Telefon": "0049 30 1234567"})
    assert row.dedupe_keys == ["jurgen gross|10115|49301234567"]


def test_a_file_from_upload_to_rows():
    content = ("Firma;PLZ;Telefon;E-Mail\n"
               "Müller GmbH & Co. KG;10115;030 1234567;\n"
               "MÜLLER KG;10115;+49 30 123 45 67;info@mueller.de\n"
               "Schmidt AG;;;\n").encode("cp1252")
    file_format = detect_format("liste.csv", "text/csv", content[:8192])
    header, rows = read_table(content, file_format)
    mapping = {"Firma": "company_name", "PLZ": "postal_code", "Telefon": "phone", "E-Mail": "email"}
    validate_mapping(header, mapping, {})
    results = [parse_row(number, cells, mapping, default_line_of_business="heating", attribute_types={},
                         attribute_choices={}) for number, cells in rows]
    first, second, third = results
    assert set(first.dedupe_keys) & set(second.dedupe_keys)
    assert isinstance(third, RejectedRow) and third.row_number == 4 and third.field == "postal_code"
