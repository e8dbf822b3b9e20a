"""The letters PDF, read back with a minimal parser: structure, pages and the text that lands on them."""
from __future__ import annotations

import re
from datetime import date

import pytest

from crm_campaigns.adapters.letters import MAX_ADDRESS_LINES, Letter, render_letters_pdf
from crm_campaigns.domain.errors import InvalidInput

DAY = date(2025, 3, 14)
OBJECT = re.compile(rb"(\d+) 0 obj\n(.*?)\nendobj\n", re.S)
SHOWN_TEXT = re.compile(rb"/(F\d) [\d.]+ Tf [\d.]+ ([\d.]+) Td \(((?:[^\\()]|\\.)*)\) Tj")


def _letter(recipient_id="r-1", body="Thank you for your order.", subject="Your order", address=None) -> Letter:
    address = ["Erika Mustermann", "Heidestraße 17", "51147 Köln"] if address is None else address
    return Letter(recipient_id, address, subject, body)


class ParsedPdf:
    """Just enough PDF reading for these tests: objects via the xref table, pages in order, shown text."""

    def __init__(self, data: bytes):
        self.data = data
        self.objects = {int(number): body for number, body in OBJECT.findall(data)}
        trailer = data[data.rindex(b"trailer"):]
        self.root = int(re.search(rb"/Root (\d+) 0 R", trailer).group(1))
        self.startxref = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", data).group(1))

    def xref_offsets(self) -> dict[int, int]:
        section = self.data[self.startxref:]
        first, count = map(int, re.match(rb"xref\n(\d+) (\d+)\n", section).groups())
        entries = re.findall(rb"(\d{10}) (\d{5}) ([nf]) \n", section)[:count]
        return {first + i: int(offset) for i, (offset, _, kind) in enumerate(entries) if kind == b"n"}

    def pages(self) -> list[int]:
        pages_ref = int(re.search(rb"/Pages (\d+) 0 R", self.objects[self.root]).group(1))
        kids = re.search(rb"/Kids \[([^\]]*)\]", self.objects[pages_ref]).group(1)
        return [int(n) for n in re.findall(rb"(\d+) 0 R", kids)]

    def stream(self, page: int) -> bytes:
        contents = int(re.search(rb"/Contents (\d+) 0 R", self.objects[page]).group(1))
        body = self.objects[contents]
        length = int(re.search(rb"/Length (\d+)", body).group(1))
        start = body.index(b"stream\n") + len(b"stream\n")
        assert body[start + length:] == b"\nendstream", "the /Length does not match the stream"
        return body[start:start + length]

    def lines(self, page: int, font: bytes | None = None) -> list[bytes]:
        """The shown strings of a page, unescaped, top to bottom."""
        shown = [(float(y), f, _unescape(text)) for f, y, text in SHOWN_TEXT.findall(self.stream(page))]
        return [text for y, f, text in sorted(shown, key=lambda item: -item[0]) if font in (None, f)]

    def text(self, page: int) -> str:
        return "\n".join(line.decode("cp1252") for line in self.lines(page))


def _unescape(text: bytes) -> bytes:
    return re.sub(rb"\\(.)", rb"\1", text)


def _render(*letters: Letter) -> ParsedPdf:
    return ParsedPdf(render_letters_pdf(list(letters), DAY))


# -- file structure -------------------------------------------------------------------------------------------
def test_the_file_is_pdf_1_4_with_a_correct_cross_reference_table():
    pdf = _render(_letter(), _letter("r-2"))
    assert pdf.data.startswith(b"%PDF-1.4\n") and pdf.data.endswith(b"%%EOF\n")
    offsets = pdf.xref_offsets()
    assert sorted(offsets) == sorted(pdf.objects) == list(range(1, len(pdf.objects) + 1))
    for number, offset in offsets.items():
        assert pdf.data[offset:].startswith(b"%d 0 obj\n" % number), number
    assert pdf.data[pdf.startxref:].startswith(b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1))
    assert b"/Size %d " % (len(offsets) + 1) in pdf.data


def test_both_helvetica_fonts_are_declared_with_winansi_encoding():
    objects = _render(_letter()).objects.values()
    fonts = [body for body in objects if b"/Type /Font" in body]
    assert sorted(re.search(rb"/BaseFont /([\w-]+)", f).group(1) for f in fonts) == [b"Helvetica", b"Helvetica-Bold"]
    assert all(b"/Encoding /WinAnsiEncoding" in f for f in fonts)


def test_streams_are_not_compressed():
    assert b"/Filter" not in _render(_letter()).data


# -- pages and text ------------------------------------------------------------------------------------------
def test_each_letter_gets_its_own_a4_page_with_address_date_subject_and_body():
    pdf = _render(_letter(), _letter("r-2", body="Second letter.", subject="Second",
                                     address=["Max Muster", "Weg 2", "10115 Berlin"]))
    first, second = pdf.pages()
    assert b"/MediaBox [0 0 595.28 841.89]" in pdf.objects[first]
    assert pdf.text(first).split("\n") == ["2025-03-14", "Erika Mustermann", "Heidestraße 17", "51147 Köln",
                                           "Your order", "Thank you for your order."]
    assert pdf.lines(first, b"F2") == [b"Your order"]  # the subject, in bold
    assert "Max Muster" in pdf.text(second) and "Second letter." in pdf.text(second)
    assert "Erika" not in pdf.text(second)


def test_the_address_sits_in_the_envelope_window():
    pdf = _render(_letter())
    stream = pdf.stream(pdf.pages()[0])
    x, y = map(float, re.search(rb"([\d.]+) ([\d.]+) Td \(Erika Mustermann\)", stream).groups())
    from_top_mm, from_left_mm = (841.89 - y) * 25.4 / 72, x * 25.4 / 72
    assert 62 < from_top_mm < 90 and 20 <= from_left_mm <= 30


def test_umlauts_and_euro_are_written_as_cp1252_bytes_and_other_characters_as_question_marks():
    pdf = _render(_letter(body="Grüße an Jörg: 10 € für Äpfel, Œuvre – 漢字 ✓"))
    stream = pdf.stream(pdf.pages()[0])
    assert "Grüße an Jörg: 10 € für Äpfel, Œuvre – ?? ?".encode("cp1252") in stream
    assert b"\xfc" in stream and b"\x80" in stream and "ü".encode() not in stream


def test_parentheses_and_backslashes_are_escaped_in_strings():
    pdf = _render(_letter(subject="Re: (urgent) C:\\temp", body="a ) b ( c \\"))
    stream = pdf.stream(pdf.pages()[0])
    assert rb"(Re: \(urgent\) C:\\temp) Tj" in stream
    assert rb"(a \) b \( c \\) Tj" in stream
    assert pdf.lines(pdf.pages()[0], b"F2") == [b"Re: (urgent) C:\\temp"]


def test_long_bodies_are_wrapped_to_the_text_width_and_continue_on_further_pages():
    words = [f"word{i}" for i in range(1500)]
    pdf = _render(_letter(body=" ".join(words)), _letter("r-2", body="short"))
    pages = pdf.pages()
    assert len(pages) > 3  # the long letter needs continuation pages, the short one one page
    long_letter_pages, short_letter_page = pages[:-1], pages[-1]
    body_lines = [line for page in long_letter_pages for line in pdf.lines(page)
                  if line.startswith(b"word")]
    assert b" ".join(body_lines).split(b" ") == [w.encode() for w in words]  # nothing lost, order kept
    assert all(len(line) < 110 for line in body_lines)  # ~90 characters fit one line at 11 pt
    assert all(b"page" in pdf.lines(page)[0] for page in long_letter_pages[1:])
    assert pdf.lines(short_letter_page)[-1] == b"short"


def test_text_never_runs_past_the_bottom_margin():
    pdf = _render(_letter(body="\n".join(f"line {i}" for i in range(200))))
    baselines = [float(y) for page in pdf.pages() for _, y, _ in SHOWN_TEXT.findall(pdf.stream(page))]
    assert min(baselines) > 25 * 72 / 25.4 - 1


def test_paragraphs_and_empty_lines_are_kept():
    pdf = _render(_letter(body="Dear Erika,\n\nfirst paragraph.\nsecond line."))
    stream = pdf.stream(pdf.pages()[0])
    ys = {text: float(y) for _, y, text in SHOWN_TEXT.findall(stream)}
    gap = ys[b"Dear Erika,"] - ys[b"first paragraph."]
    assert gap == pytest.approx(2 * (ys[b"first paragraph."] - ys[b"second line."]), abs=0.02)


def test_a_word_wider_than_the_line_is_cut():
    pdf = _render(_letter(body="x" * 300))
    lines = [line for line in pdf.lines(pdf.pages()[0]) if line.startswith(b"x")]
    assert len(lines) >= 3 and b"".join(lines) == b"x" * 300


def test_an_address_line_wider_than_the_window_is_shortened_with_an_ellipsis():
    long_name = "Gesellschaft für außerordentlich lange Firmennamen und Verwaltung mbH & Co. KG"
    pdf = _render(_letter(address=[long_name, "Weg 1", "12345 Ort"]))
    lines = pdf.lines(pdf.pages()[0])
    shortened = next(line for line in lines if line.startswith(b"Gesellschaft"))
    assert shortened.endswith(b"\x85") and long_name.encode("cp1252").startswith(shortened[:-1])
    assert len(shortened) < len(long_name)


# -- refused input -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("letters, field", [
    ([], "letters"),
    ([_letter(address=[])], "letters.0.address_lines"),
    ([_letter(), _letter(address=["  ", ""])], "letters.1.address_lines"),
    ([_letter(address=[f"line {i}" for i in range(MAX_ADDRESS_LINES + 1)])], "letters.0.address_lines"),
])
def test_letters_that_cannot_be_printed_are_refused(letters, field):
    with pytest.raises(InvalidInput) as error:
        render_letters_pdf(letters, DAY)
    assert error.value.field == field
