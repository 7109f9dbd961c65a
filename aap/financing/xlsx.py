"""A streamed XLSX writer for one-sheet tables: the sheet's XML written row by row into a zip.

openpyxl's write-only mode builds a cell object, binds its value and looks its style up for each of
the ~720 000 cells of a national campaign's programme (about 30 s on two cores). The format of such
a sheet is small (ECMA-376 part 1, SpreadsheetML): a workbook, a style sheet with the few cell
formats used here, and one worksheet whose rows are `<row><c …/></row>` elements. Strings are
written inline (`t="inlineStr"`), numbers as their decimal text, each cell with the index of a
pre-built style; the zip is written as the rows come, into a spooled file.

Styles (`Style`): the default, a header (bold, filled, wrapped, top-aligned), a euro amount
(`#,##0.00 "€"`), a bold euro amount, bold text.
"""

import re
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from decimal import Decimal
from enum import IntEnum
from typing import IO, Any
from xml.sax.saxutils import escape

EURO_FORMAT = '#,##0.00 "€"'
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed in XML 1.0


class Style(IntEnum):
    """Index of a cell format in `cellXfs` (the `s` attribute of a cell)."""

    DEFAULT = 0
    HEADER = 1
    EURO = 2
    EURO_BOLD = 3
    BOLD = 4


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '<Override PartName="/docProps/core.xml" '
    'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    '<Override PartName="/docProps/app.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" '
    'Target="docProps/core.xml"/>'
    '<Relationship Id="rId3" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" '
    'Target="docProps/app.xml"/>'
    "</Relationships>"
)
_CORE = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    "<dc:creator>aap</dc:creator></cp:coreProperties>"
)
_APP = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
    "<Application>aap</Application></Properties>"
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/>'
    "</Relationships>"
)
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    f'<numFmts count="1"><numFmt numFmtId="164" formatCode="{escape(EURO_FORMAT, {chr(34): "&quot;"})}"/>'
    "</numFmts>"
    '<fonts count="2">'
    '<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    "</fonts>"
    '<fills count="3">'
    '<fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="00DDE5F0"/><bgColor indexed="64"/></patternFill></fill>'
    "</fills>"
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1" '
    'applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="164" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    n = index + 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def _text(value: str) -> str:
    value = _ILLEGAL.sub("", value)
    space = ' xml:space="preserve"' if value != value.strip() else ""
    return f"<is><t{space}>{escape(value)}</t></is>"


class Columns:
    """The cells of rows whose every column always holds one kind: (number?, style) per column."""

    def __init__(self, kinds: Sequence[tuple[bool, Style]]):
        self.cells = [
            (column_letter(i), f' s="{int(style)}"' if style else "", number)
            for i, (number, style) in enumerate(kinds)
        ]


class SheetWriter:
    """Writes one worksheet named `title` into `out` (a binary file), row by row.

    `widths` are the column widths (in characters); `freeze_header` keeps the first row in view."""

    def __init__(self, out: IO[bytes], title: str, widths: Sequence[float], freeze_header: bool = True):
        self._zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        for name, body in (
            ("[Content_Types].xml", _CONTENT_TYPES),
            ("_rels/.rels", _ROOT_RELS),
            ("docProps/core.xml", _CORE),
            ("docProps/app.xml", _APP),
            ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
            ("xl/styles.xml", _STYLES),
            ("xl/workbook.xml", self._workbook(title)),
        ):
            self._zip.writestr(name, body)
        self._sheet = self._zip.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        self._letters: list[str] = []
        self._row = 0
        self._buffer: list[str] = []
        pane = (
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
            if freeze_header
            else ""
        )
        cols = "".join(
            f'<col min="{i + 1}" max="{i + 1}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths)
        )
        self._buffer.append(
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<sheetViews><sheetView workbookViewId="0">{pane}</sheetView></sheetViews>'
            '<sheetFormatPr defaultRowHeight="15"/>'
            + (f"<cols>{cols}</cols>" if cols else "")
            + "<sheetData>"
        )

    @staticmethod
    def _workbook(title: str) -> str:
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets><sheet name="{escape(title[:31], {chr(34): "&quot;"})}" sheetId="1" r:id="rId1"/></sheets>'
            "</workbook>"
        )

    def _letter(self, index: int) -> str:
        while len(self._letters) <= index:
            self._letters.append(column_letter(len(self._letters)))
        return self._letters[index]

    def row(self, cells: Iterable[tuple[Any, Style]]) -> None:
        """One row of (value, style): a str is an inline string, a Decimal/int/float a number, None an
        empty (styled) cell."""
        self._row += 1
        n = self._row
        parts = [f'<row r="{n}">']
        for i, (value, style) in enumerate(cells):
            ref = f"{self._letter(i)}{n}"
            s = f' s="{int(style)}"' if style else ""
            if value is None or value == "":
                if style:
                    parts.append(f'<c r="{ref}"{s}/>')
            elif isinstance(value, str):
                parts.append(f'<c r="{ref}"{s} t="inlineStr">{_text(value)}</c>')
            elif isinstance(value, bool):
                parts.append(f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, Decimal):
                parts.append(f'<c r="{ref}"{s}><v>{value:f}</v></c>')
            elif isinstance(value, int | float):
                parts.append(f'<c r="{ref}"{s}><v>{value}</v></c>')
            else:
                parts.append(f'<c r="{ref}"{s} t="inlineStr">{_text(str(value))}</c>')
        parts.append("</row>")
        self._buffer.append("".join(parts))
        if len(self._buffer) >= 500:
            self._flush()

    def typed_row(self, columns: Columns, values: Sequence[str | None]) -> None:
        """One row of `columns`' kinds, faster than `row` for long tables: a text value is escaped
        here, a number value is already its decimal text (``1234.50``); None or "" an empty (styled)
        cell."""
        self._row += 1
        n = str(self._row)
        parts = ['<row r="', n, '">']
        for (letter, style, number), value in zip(columns.cells, values, strict=True):
            if not value:
                if style:
                    parts += ('<c r="', letter, n, '"', style, "/>")
            elif number:
                parts += ('<c r="', letter, n, '"', style, "><v>", value, "</v></c>")
            else:
                parts += ('<c r="', letter, n, '"', style, ' t="inlineStr">', _text(value), "</c>")
        parts.append("</row>")
        self._buffer.append("".join(parts))
        if len(self._buffer) >= 500:
            self._flush()

    def _flush(self) -> None:
        self._sheet.write("".join(self._buffer).encode("utf-8"))
        self._buffer.clear()

    def close(self) -> None:
        self._buffer.append("</sheetData></worksheet>")
        self._flush()
        self._sheet.close()
        self._zip.close()


def spooled() -> "tempfile.SpooledTemporaryFile[bytes]":
    """A file for the workbook: in memory up to 8 MB, then on disk."""
    return tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
