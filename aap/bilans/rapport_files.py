"""The annual report as files: a PDF with charts (a bundled Unicode font, so « œuvre » and « € » print
as such) and an XLSX workbook. Both are drawn from the report's JSON, never recomputed."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO
from typing import Any

from fpdf import FPDF
from openpyxl import Workbook
from openpyxl.styles import Font

from aap.pdf_fonts import FAMILY, add_unicode_font
from forms.values import french_amount
from workflows.labels import AGE_LABELS, BILAN_COUNT_LABELS

BLUE, ORANGE, GREY = (0, 0, 145), (225, 0, 15), (120, 120, 120)
COUNT_LABELS = BILAN_COUNT_LABELS


def _euros(value: str) -> str:
    return french_amount(Decimal(value))


class _Pdf(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(format="A4")
        add_unicode_font(self)
        self.report_title = title
        self.set_auto_page_break(True, margin=15)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, "", 8)
        self.set_text_color(*GREY)
        self.cell(0, 6, f"{self.report_title} — page {self.page_no()}", align="C")
        self.set_text_color(0, 0, 0)

    def heading(self, text: str) -> None:
        self.ln(3)
        self.set_font(FAMILY, "B", 13)
        self.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
        self.set_font(FAMILY, "", 10)

    def line_of(self, label: str, value: str) -> None:
        self.cell(110, 6, label)
        self.cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")

    def bars(self, items: list[tuple[str, list[float]]], legend: list[str]) -> None:
        """A horizontal bar chart: one row per item, one bar per series (prévu / réalisé…)."""
        top = max((v for _, values in items for v in values), default=0) or 1
        colours = [BLUE, ORANGE]
        width = 110
        for label, values in items:
            if self.get_y() > 260:
                self.add_page()
            y = self.get_y()
            self.set_font(FAMILY, "", 8)
            self.set_xy(self.l_margin, y)
            self.cell(55, 5, label[:40])
            for i, value in enumerate(values):
                self.set_fill_color(*colours[i % 2])
                self.rect(self.l_margin + 57, y + 1 + i * 3, max(width * value / top, 0.3), 2.6, style="F")
            self.set_xy(self.l_margin + 57 + width + 2, y)
            self.cell(0, 5, " / ".join(f"{v:,.0f}".replace(",", "\u202f") for v in values))
            self.set_y(y + max(6, 3 * len(values) + 2))
        if len(legend) > 1:
            y = self.get_y()
            for i, name in enumerate(legend):
                self.set_fill_color(*colours[i % 2])
                self.rect(self.l_margin + 57 + i * 40, y + 1.5, 4, 3, style="F")
                self.set_xy(self.l_margin + 62 + i * 40, y)
                self.cell(30, 6, name)
            self.ln(8)
        self.set_font(FAMILY, "", 10)


def report_pdf(data: dict[str, Any]) -> bytes:
    campaign = data["campaign"]
    title = f"Rapport de suivi et de bilan — {campaign['title']}"
    pdf = _Pdf(title)
    pdf.set_title(title)
    pdf.add_page()
    pdf.set_font(FAMILY, "B", 16)
    pdf.multi_cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 10)
    pdf.cell(
        0, 6, f"Appel à projets {campaign['year']} — état au {data['date']}", new_x="LMARGIN", new_y="NEXT"
    )

    pdf.heading("Les bilans")
    for key, label in COUNT_LABELS.items():
        pdf.line_of(label, str(data["bilans"][key]))

    benef = data["beneficiaires"]
    pdf.heading(f"Les bénéficiaires ({benef['total']} au total, selon les bilans déposés)")
    pdf.bars([(k.capitalize(), [float(v)]) for k, v in benef["par_sexe"].items()], ["Nombre"])
    pdf.bars([(AGE_LABELS.get(k, k), [float(v)]) for k, v in benef["par_age"].items()], ["Nombre"])
    pdf.bars([(benef["qpv_noms"].get(k, k), [float(v)]) for k, v in benef["par_qpv"].items()], ["Nombre"])

    money = data["montants"]
    pdf.heading("Les montants : prévu et réalisé")
    pdf.line_of("Total accordé (prévu)", _euros(money["total_prevu"]))
    pdf.line_of("Total employé (réalisé)", _euros(money["total_realise"]))
    pdf.ln(2)
    pdf.bars(
        [(r["name"], [float(r["prevu"]), float(r["realise"])]) for r in money["par_financeur"]],
        ["Prévu", "Réalisé"],
    )
    if money["par_orientation"]:
        pdf.cell(0, 6, "Par orientation (charges de l'action)", new_x="LMARGIN", new_y="NEXT")
        pdf.bars(
            [
                (f"{r['orientation']} {r['label']}", [float(r["prevu"]), float(r["realise"])])
                for r in money["par_orientation"]
            ],
            ["Prévu", "Réalisé"],
        )

    pdf.heading("Vers le droit commun : les indicateurs")
    for row in data["indicateurs"]:
        pdf.multi_cell(
            0,
            5,
            f"{row['dossier']} — {row['titre'] or ''} : {row['indicateur']} → {row['valeur']}",
            new_x="LMARGIN",
            new_y="NEXT",
        )

    f = data["focus"]
    pdf.heading("Le focus bénéficiaires")
    pdf.line_of("Séances", str(len(f["seances"])))
    pdf.line_of("Opérateurs venus avec des bénéficiaires", str(f["operateurs"]))
    pdf.line_of("Bénéficiaires venus", str(f["beneficiaires"]))
    for c in f["contributions"]:
        pdf.set_font(FAMILY, "B", 10)
        pdf.multi_cell(0, 5, c["theme"], new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FAMILY, "", 10)
        pdf.multi_cell(0, 5, f"« {c['texte']} »", new_x="LMARGIN", new_y="NEXT")
        if c["propositions"]:
            pdf.multi_cell(0, 5, f"Propositions : {c['propositions']}", new_x="LMARGIN", new_y="NEXT")

    pdf.heading("Les délais de l'année (moyennes)")
    for d in data["delais"]:
        shown = (
            f"{d['moyenne_jours']} jours ({d['dossiers']} dossiers)"
            if d["moyenne_jours"] is not None
            else "—"
        )
        pdf.line_of(d["label"], shown)
    return bytes(pdf.output())


def _as_text(sheet: Any) -> None:
    """Typed words stay words: a contribution starting with « = » is never read as a formula."""
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value[:1] in ("=", "+", "-", "@"):
                cell.data_type = "s"


def _beneficiaries_sheet(wb: Workbook, beneficiaires: dict[str, Any]) -> None:
    benef = wb.create_sheet("Bénéficiaires")
    benef.append(["Répartition", "Catégorie", "Nombre"])
    for key, value in beneficiaires["par_sexe"].items():
        benef.append(["Sexe", key, value])
    for key, value in beneficiaires["par_age"].items():
        benef.append(["Âge", AGE_LABELS.get(key, key), value])
    for key, value in beneficiaires["par_qpv"].items():
        benef.append(["Quartier", beneficiaires["qpv_noms"].get(key, key), value])


def _money_sheet(wb: Workbook, montants: dict[str, Any]) -> None:
    money = wb.create_sheet("Montants")
    money.append(["Financeur", "Code", "Prévu (accordé)", "Réalisé (employé)"])
    for r in montants["par_financeur"]:
        money.append([r["name"], r["financeur"], Decimal(r["prevu"]), Decimal(r["realise"])])
    money.append([])
    money.append(["Orientation", "Code", "Prévu (charges)", "Réalisé (charges)"])
    for r in montants["par_orientation"]:
        money.append([r["label"], r["orientation"], Decimal(r["prevu"]), Decimal(r["realise"])])
    for row in money.iter_rows(min_col=3, max_col=4):
        for cell in row:
            cell.number_format = '#,##0.00 "€"'


def report_xlsx(data: dict[str, Any]) -> bytes:
    wb = Workbook()
    bold = Font(bold=True)
    ws = wb.active
    assert ws is not None
    ws.title = "Synthèse"
    ws.append([f"Rapport de suivi et de bilan — {data['campaign']['title']}"])
    ws["A1"].font = bold
    ws.append(["État au", data["date"]])
    ws.append([])
    for key, label in COUNT_LABELS.items():
        ws.append([label, data["bilans"][key]])
    ws.append(["Bénéficiaires (bilans déposés)", data["beneficiaires"]["total"]])
    _beneficiaries_sheet(wb, data["beneficiaires"])
    _money_sheet(wb, data["montants"])

    ind = wb.create_sheet("Indicateurs")
    ind.append(["Dossier", "Action", "Indicateur", "Valeur atteinte"])
    for r in data["indicateurs"]:
        ind.append([r["dossier"], r["titre"], r["indicateur"], r["valeur"]])

    focus = wb.create_sheet("Focus bénéficiaires")
    focus.append(["Thème", "Contribution", "Propositions"])
    for c in data["focus"]["contributions"]:
        focus.append([c["theme"], c["texte"], c["propositions"]])

    delays = wb.create_sheet("Délais")
    delays.append(["Étape", "Moyenne (jours)", "Dossiers"])
    for d in data["delais"]:
        delays.append([d["label"], d["moyenne_jours"], d["dossiers"]])
    for sheet in wb.worksheets:
        _as_text(sheet)
        for cell in sheet[1]:
            cell.font = bold
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
