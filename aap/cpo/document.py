"""The CPO's convention as a Unicode PDF: the parties, the action, the objectives, and per year and
financer the planned amounts (« sous réserve du vote des crédits »), with the signatures so far.

Written with fpdf2 in a bundled TrueType font (DejaVu Sans, `aap/fonts/`, licence beside it), so
every French character and the euro sign print as typed, on any machine.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from aap.models import Cpo
from aap.pdf_fonts import FAMILY, add_unicode_font
from workflows.cofinancement import format_euros
from workflows.cpo import STATE_LABELS
from workflows.reasons import fr_date


def _pdf() -> FPDF:
    pdf = FPDF(format="A4")
    add_unicode_font(pdf)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    return pdf


def _line(pdf: FPDF, text: str, *, bold: bool = False, size: int = 10) -> None:
    pdf.set_font(FAMILY, "B" if bold else "", size)
    pdf.multi_cell(0, 6, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render(cpo: Cpo, now: datetime) -> bytes:
    pdf = _pdf()
    pdf.set_title(f"Convention pluriannuelle d'objectifs n° {cpo.id}")
    pdf.set_creation_date(now)
    years = [a.annee for a in cpo.annees]
    _line(pdf, "Convention pluriannuelle d'objectifs (CPO)", bold=True, size=16)
    _line(pdf, f"n° {cpo.id} — {years[0]}-{years[-1]} — état : {STATE_LABELS.get(cpo.state, cpo.state)}")
    pdf.ln(3)
    _line(pdf, "Entre", bold=True)
    for s in cpo.signataires:
        signed = f", signée le {fr_date(s.signed_at.date())}" if s.signed_at else ", signature attendue"
        _line(pdf, f"– {s.financeur.name} ({s.financeur.code}){signed}")
    _line(pdf, "et", bold=True)
    org = cpo.organisation
    _line(pdf, f"– {org.name}" + (f", SIRET {org.siret}" if org.siret else ""))
    pdf.ln(3)
    _line(pdf, "Action", bold=True)
    _line(pdf, cpo.action)
    _line(pdf, f"Dossier d'origine : n° {cpo.dossier_origine.number}")
    if cpo.objectifs:
        _line(pdf, "Objectifs convenus", bold=True)
        _line(pdf, cpo.objectifs)
    if cpo.indicateurs:
        _line(pdf, "Indicateurs", bold=True)
        _line(pdf, cpo.indicateurs)
    pdf.ln(3)
    _line(pdf, "Montants prévus par année (sous réserve du vote des crédits)", bold=True)
    pdf.set_font(FAMILY, "B", 10)
    width = (pdf.w - pdf.l_margin - pdf.r_margin) / (len(years) + 2)
    pdf.cell(width * 1.5, 7, "Financeur", border=1)
    for year in years:
        pdf.cell(width, 7, str(year), border=1, align="R")
    pdf.cell(width * 0.5 + 0.01, 7, "", border=0, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 10)
    totals = [Decimal("0.00")] * len(years)
    for s in cpo.signataires:
        pdf.cell(width * 1.5, 7, s.financeur.code, border=1)
        for i, annee in enumerate(cpo.annees):
            amount = next(
                (m.prevu for m in annee.montants if m.financeur_id == s.financeur_id), Decimal("0.00")
            )
            totals[i] += amount
            pdf.cell(width, 7, format_euros(amount), border=1, align="R")
        pdf.ln(7)
    pdf.set_font(FAMILY, "B", 10)
    pdf.cell(width * 1.5, 7, "Total", border=1)
    for total in totals:
        pdf.cell(width, 7, format_euros(total), border=1, align="R")
    pdf.ln(10)
    _line(
        pdf,
        "Chaque année, l'organisme dépose une demande annuelle allégée dans l'appel à projets de l'année ; "
        "le versement de l'année N suit la validation du bilan de l'année N-1.",
    )
    if cpo.state == "resiliee" and cpo.motif_resiliation:
        _line(pdf, f"Résiliée : {cpo.motif_resiliation}", bold=True)
    _line(pdf, f"Document édité le {fr_date(now.date())}.")
    return bytes(pdf.output())
