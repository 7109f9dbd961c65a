"""The annual report as files: a tagged PDF (PDF/UA-1, `aap.pdf`; its charts are tables a screen
reader reads, with bars for the eye; a bundled Unicode font, so « œuvre » and « € » print as such)
and an XLSX workbook. Both are drawn from the report's JSON, never recomputed."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from aap import pdf
from forms.values import french_amount
from workflows.labels import AGE_LABELS, BILAN_COUNT_LABELS

COUNT_LABELS = BILAN_COUNT_LABELS
TEMPLATES = Path(__file__).parent / "templates"
BAR_WIDTH_MM = 60  # shared by the series of a row: the labels keep the rest of the line
COUNT = [("Nombre", "nombre")]  # the series of a chart: (column header, bar colour's CSS class)
PREVU_REALISE = [("Prévu", "prevu"), ("Réalisé", "realise")]


def _euros(value: str) -> str:
    return french_amount(Decimal(value))


def _number(value: float) -> str:
    return f"{value:,.0f}".replace(",", "\u202f")


def _chart(
    items: list[tuple[str, list[float]]],
    series: list[tuple[str, str]],
    item: str,
    heading: str | None = None,
) -> dict[str, Any]:
    """A horizontal bar chart as a table: one row per item, one cell (value and bar) per series."""
    top = max((v for _, values in items for v in values), default=0) or 1
    return {
        "heading": heading,
        "item": item,
        "series": [name for name, _ in series],
        "rows": [
            {
                "label": label,
                "cells": [
                    {
                        "shown": _number(value),
                        "css": series[i][1],
                        "width": f"{max(BAR_WIDTH_MM / len(series) * value / top, 0.3):.1f}",
                    }
                    for i, value in enumerate(values)
                ],
            }
            for label, values in items
        ],
    }


def report_context(data: dict[str, Any]) -> dict[str, Any]:
    campaign = data["campaign"]
    benef, money, f = data["beneficiaires"], data["montants"], data["focus"]
    montants = [
        _chart(
            [(r["name"], [float(r["prevu"]), float(r["realise"])]) for r in money["par_financeur"]],
            PREVU_REALISE,
            "Financeur",
            "Par financeur",
        )
    ]
    if money["par_orientation"]:
        montants.append(
            _chart(
                [
                    (f"{r['orientation']} {r['label']}", [float(r["prevu"]), float(r["realise"])])
                    for r in money["par_orientation"]
                ],
                PREVU_REALISE,
                "Orientation",
                "Par orientation (charges de l'action)",
            )
        )
    return {
        "title": f"Rapport de suivi et de bilan — {campaign['title']}",
        "campaign": campaign,
        "date": data["date"],
        "bilans": [(label, data["bilans"][key]) for key, label in COUNT_LABELS.items()],
        "beneficiaires_total": benef["total"],
        "beneficiaires": [
            _chart([(k.capitalize(), [float(v)]) for k, v in benef["par_sexe"].items()], COUNT, "Sexe"),
            _chart([(AGE_LABELS.get(k, k), [float(v)]) for k, v in benef["par_age"].items()], COUNT, "Âge"),
            _chart(
                [(benef["qpv_noms"].get(k, k), [float(v)]) for k, v in benef["par_qpv"].items()],
                COUNT,
                "Quartier",
            ),
        ],
        "totaux": [
            ("Total accordé (prévu)", _euros(money["total_prevu"])),
            ("Total employé (réalisé)", _euros(money["total_realise"])),
        ],
        "montants": montants,
        "indicateurs": data["indicateurs"],
        "focus_chiffres": [
            ("Séances", len(f["seances"])),
            ("Opérateurs venus avec des bénéficiaires", f["operateurs"]),
            ("Bénéficiaires venus", f["beneficiaires"]),
        ],
        "contributions": f["contributions"],
        "delais": [
            (
                d["label"],
                f"{d['moyenne_jours']} jours ({d['dossiers']} dossiers)"
                if d["moyenne_jours"] is not None
                else "—",
            )
            for d in data["delais"]
        ],
    }


def report_pdf(data: dict[str, Any]) -> bytes:
    ctx = report_context(data)
    return pdf.render(TEMPLATES, "rapport.html.j2", ctx, title=ctx["title"])


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
