"""Printable letters: one PDF 1.4 document for a whole mailing, written by hand (no PDF library).

Each letter starts on a new A4 page laid out after DIN 5008 form B: the address sits where a DL window
envelope shows it, the date in the information block, the subject in bold, then the body wrapped to the
text width and running onto continuation pages. Text is set in the standard Helvetica fonts, which every
PDF reader has, with WinAnsiEncoding so German umlauts, ß and € print; other characters become "?".
Streams stay uncompressed so the output can be inspected (and tested) as it is.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from crm_campaigns.domain.errors import InvalidInput

MM = 72 / 25.4
PAGE_WIDTH, PAGE_HEIGHT = 595.28, 841.89
LEFT, RIGHT, BOTTOM = 25 * MM, 20 * MM, 25 * MM
TEXT_WIDTH = PAGE_WIDTH - LEFT - RIGHT
ADDRESS_TOP = 62.7 * MM  # window 45 mm from the top, below its 17.7 mm remark zone
ADDRESS_WIDTH = 80 * MM  # the 85 mm window less its inner margin
MAX_ADDRESS_LINES = 6  # what fits the 27.3 mm address zone at 10 pt
DATE_LEFT, DATE_TOP = 125 * MM, 50 * MM
SUBJECT_TOP = 103.4 * MM
CONTINUATION_TOP = 25 * MM
FOLD_MARKS = (105 * MM, 148.5 * MM, 210 * MM)  # two folds for a DL envelope, the middle one for punching
ADDRESS_SIZE, TEXT_SIZE, NOTE_SIZE = 10, 11, 8
LEADING = 1.25

# Advance widths (1/1000 em) of WinAnsi codes 32..255, from Adobe's Helvetica and Helvetica-Bold metrics.
HELVETICA_WIDTHS = (
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 333, 556,
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 333, 556,
    556, 556, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 556, 611, 556,
    556, 222, 222, 333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 556, 500, 667,
    278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 333, 737, 333,
    400, 584, 333, 333, 333, 578, 537, 278, 333, 333, 365, 556, 834, 834, 834, 611,
    667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,
    556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500,
)
HELVETICA_BOLD_WIDTHS = (
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611,
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 333, 556,
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 333, 611,
    556, 611, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 611, 611, 611,
    611, 278, 278, 500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 611, 500, 667,
    278, 333, 556, 556, 556, 556, 280, 556, 333, 737, 370, 556, 584, 333, 737, 333,
    400, 584, 333, 333, 333, 611, 556, 278, 333, 333, 365, 556, 834, 834, 834, 611,
    722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,
    556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278,
    611, 611, 611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556,
)


@dataclass(frozen=True)
class Letter:
    recipient_id: str
    address_lines: list[str]
    subject: str
    body: str


@dataclass(frozen=True)
class Font:
    resource: str  # the name the content streams use
    base_font: str
    widths: tuple[int, ...]

    def width(self, text: bytes, size: float) -> float:
        return sum(self.widths[byte - 32] for byte in text) * size / 1000


REGULAR = Font("F1", "Helvetica", HELVETICA_WIDTHS)
BOLD = Font("F2", "Helvetica-Bold", HELVETICA_BOLD_WIDTHS)


def render_letters_pdf(letters: Sequence[Letter], letter_date: date | None = None) -> bytes:
    """One PDF with every letter, each starting on a new page, in the order given."""
    if not letters:
        raise InvalidInput("there are no letters to print", "letters")
    for index, letter in enumerate(letters):
        _check_address(letter, f"letters.{index}.address_lines")
    dated = (letter_date or date.today()).isoformat()
    pages = [page for letter in letters for page in _lay_out(letter, dated)]
    return _write_pdf(pages)


def _check_address(letter: Letter, field: str) -> None:
    lines = [line for line in letter.address_lines if line.strip()]
    if not lines:
        raise InvalidInput("a letter needs an address", field)
    if len(lines) > MAX_ADDRESS_LINES:
        raise InvalidInput(f"an address has at most {MAX_ADDRESS_LINES} lines to fit the envelope window", field)


# -- layout ----------------------------------------------------------------------------------------------------
@dataclass
class Page:
    """Drawing operators of one page, top to bottom; `y` is the next baseline, measured from the top."""
    operators: list[bytes] = field(default_factory=list)
    y: float = 0.0

    def text(self, font: Font, size: float, x: float, top: float, text: bytes) -> None:
        baseline = PAGE_HEIGHT - top
        self.operators.append(b"BT /%s %d Tf %.2f %.2f Td (%s) Tj ET" % (
            font.resource.encode(), size, x, baseline, _escape(text)))

    def line(self, x1: float, top: float, x2: float) -> None:
        y = PAGE_HEIGHT - top
        self.operators.append(b"%.2f %.2f m %.2f %.2f l S" % (x1, y, x2, y))


def _lay_out(letter: Letter, dated: str) -> list[Page]:
    first = _new_page()
    address_lines = [line for line in letter.address_lines if line.strip()]
    top = ADDRESS_TOP
    for line in address_lines:
        top += ADDRESS_SIZE
        first.text(REGULAR, ADDRESS_SIZE, LEFT, top, _fit(_encode(line), REGULAR, ADDRESS_SIZE, ADDRESS_WIDTH))
        top += ADDRESS_SIZE * (LEADING - 1)
    first.text(REGULAR, TEXT_SIZE, DATE_LEFT, DATE_TOP + TEXT_SIZE, _encode(dated))
    first.y = SUBJECT_TOP
    pages = [first]
    _flow(pages, BOLD, _wrap(_encode(letter.subject), BOLD, TEXT_SIZE, TEXT_WIDTH), address_lines[0])
    pages[-1].y += TEXT_SIZE * LEADING
    body_lines = [wrapped for paragraph in letter.body.splitlines()
                  for wrapped in _wrap(_encode(paragraph), REGULAR, TEXT_SIZE, TEXT_WIDTH)]
    _flow(pages, REGULAR, body_lines, address_lines[0])
    return pages


def _new_page() -> Page:
    page = Page()
    for top in FOLD_MARKS:
        page.line(3 * MM, top, 8 * MM)
    return page


def _flow(pages: list[Page], font: Font, lines: list[bytes], addressee: str) -> None:
    """Sets lines below each other, starting a continuation page when the current one is full."""
    for line in lines:
        page = pages[-1]
        if page.y + TEXT_SIZE > PAGE_HEIGHT - BOTTOM:
            page = _continuation_page(addressee, len(pages) + 1)
            pages.append(page)
        page.y += TEXT_SIZE
        if line:
            page.text(font, TEXT_SIZE, LEFT, page.y, line)
        page.y += TEXT_SIZE * (LEADING - 1)


def _continuation_page(addressee: str, number: int) -> Page:
    # Identifies a loose sheet in a stack of printed letters.
    page = _new_page()
    note = _fit(_encode(f"{addressee} \u2013 page {number}"), REGULAR, NOTE_SIZE, TEXT_WIDTH)
    page.text(REGULAR, NOTE_SIZE, LEFT, CONTINUATION_TOP - 10 * MM, note)
    page.y = CONTINUATION_TOP
    return page


def _encode(text: str) -> bytes:
    """WinAnsi bytes of one line; tabs become spaces, other control characters and unmappable ones '?'."""
    text = text.replace("\t", "    ")
    text = "".join("?" if ord(char) < 32 or ord(char) == 127 else char for char in text)
    return text.encode("cp1252", errors="replace")


def _wrap(text: bytes, font: Font, size: float, width: float) -> list[bytes]:
    """Greedy word wrap; a word wider than the line is cut. An empty paragraph stays an empty line."""
    lines: list[bytes] = []
    current = b""
    for word in text.split(b" "):
        candidate = current + b" " + word if current else word
        if font.width(candidate, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while font.width(current, size) > width:
            cut = _longest_prefix(current, font, size, width)
            lines.append(current[:cut])
            current = current[cut:]
    lines.append(current)
    return lines


def _longest_prefix(text: bytes, font: Font, size: float, width: float) -> int:
    cut = 1
    while cut < len(text) and font.width(text[:cut + 1], size) <= width:
        cut += 1
    return cut


def _fit(text: bytes, font: Font, size: float, width: float) -> bytes:
    """The text cut to one line with an ellipsis: a window shows no second line of a long company name."""
    if font.width(text, size) <= width:
        return text
    ellipsis = "\u2026".encode("cp1252")
    return text[:_longest_prefix(text, font, size, width - font.width(ellipsis, size))] + ellipsis


def _escape(text: bytes) -> bytes:
    return text.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


# -- PDF file --------------------------------------------------------------------------------------------------
CATALOG, PAGES, INFO, FIRST_FONT = 1, 2, 3, 4


def _write_pdf(pages: list[Page]) -> bytes:
    fonts = (REGULAR, BOLD)
    objects: dict[int, bytes] = {}
    font_refs = b" ".join(b"/%s %d 0 R" % (font.resource.encode(), FIRST_FONT + i) for i, font in enumerate(fonts))
    for i, font in enumerate(fonts):
        objects[FIRST_FONT + i] = (b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>"
                                   % font.base_font.encode())
    kids = []
    page_number = FIRST_FONT + len(fonts)
    for page in pages:
        content = b"\n".join(page.operators)
        objects[page_number] = (b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.2f %.2f] "
                                b"/Resources << /Font << %s >> >> /Contents %d 0 R >>"
                                % (PAGES, PAGE_WIDTH, PAGE_HEIGHT, font_refs, page_number + 1))
        objects[page_number + 1] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content)
        kids.append(b"%d 0 R" % page_number)
        page_number += 2
    objects[CATALOG] = b"<< /Type /Catalog /Pages %d 0 R >>" % PAGES
    objects[PAGES] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    objects[INFO] = b"<< /Producer (crm-campaigns) /Title (Letters) >>"
    return _serialise(objects)


def _serialise(objects: dict[int, bytes]) -> bytes:
    # The binary comment line tells transfer tools the file is not plain text.
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number in range(1, len(objects) + 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, objects[number])
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, CATALOG, INFO, xref_at)
    return bytes(out)
