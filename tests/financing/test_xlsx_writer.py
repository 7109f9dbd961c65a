"""The streamed XLSX writer: what a spreadsheet opens is what was written (openpyxl reads it back)."""

from decimal import Decimal
from io import BytesIO

from openpyxl import load_workbook

from aap.financing.xlsx import Columns, SheetWriter, Style, column_letter


def test_cells_come_back_typed_styled_and_escaped() -> None:
    out = BytesIO()
    sheet = SheetWriter(out, "Programmation", [12, 30])
    sheet.row([("Numéro", Style.HEADER), ("Montant", Style.HEADER)])
    sheet.row([('<b>A & B</b> "q"', Style.DEFAULT), (Decimal("1234.50"), Style.EURO)])
    sheet.row([("  espaces  ", Style.DEFAULT), (None, Style.EURO)])
    sheet.row([("bip\x07 fin", Style.DEFAULT), (Decimal("0E-2"), Style.EURO_BOLD)])
    sheet.row([("'=1+1", Style.BOLD), (7, Style.DEFAULT)])
    sheet.close()

    ws = load_workbook(BytesIO(out.getvalue()))["Programmation"]
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["B"].width == 30
    assert ws["A1"].value == "Numéro" and ws["A1"].font.b and ws["A1"].fill.fgColor.rgb.endswith("DDE5F0")
    assert ws["A1"].alignment.wrap_text
    assert ws["A2"].value == '<b>A & B</b> "q"'
    assert ws["B2"].value == 1234.5 and ws["B2"].number_format == '#,##0.00 "€"'
    assert ws["A3"].value == "  espaces  " and ws["B3"].value is None
    assert ws["A4"].value == "bip fin"  # a control character is not XML: dropped
    assert ws["B4"].value == 0 and ws["B4"].font.b and "€" in ws["B4"].number_format
    assert ws["A5"].value == "'=1+1" and ws["A5"].data_type == "s" and ws["A5"].font.b
    assert ws["B5"].value == 7
    assert ws.max_row == 5


def test_typed_rows_read_back_as_the_general_rows_do() -> None:
    out = BytesIO()
    sheet = SheetWriter(out, "Programmation", [12, 30, 14])
    columns = Columns([(False, Style.DEFAULT), (True, Style.EURO), (True, Style.EURO_BOLD)])
    sheet.row([("Action", Style.HEADER), ("Montant", Style.HEADER), ("Total", Style.HEADER)])
    sheet.typed_row(columns, ['<b>A & B</b> "q"', "1234.50", "0.00"])
    sheet.typed_row(columns, ["  bip\x07 fin  ", None, ""])
    sheet.typed_row(columns, ["", "7.05", "-3.10"])
    sheet.close()

    ws = load_workbook(BytesIO(out.getvalue()))["Programmation"]
    assert [[c.value for c in row] for row in ws.iter_rows(min_row=2)] == [
        ['<b>A & B</b> "q"', 1234.5, 0],
        ["  bip fin  ", None, None],
        [None, 7.05, -3.1],
    ]
    assert ws["B2"].number_format == '#,##0.00 "€"' and not ws["B2"].font.b
    assert ws["C2"].font.b and "€" in ws["C2"].number_format
    assert ws["B3"].number_format == '#,##0.00 "€"'  # an empty amount keeps its format
    assert ws.max_row == 4


def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 51, 701, 702)] == ["A", "Z", "AA", "AZ", "ZZ", "AAA"]
