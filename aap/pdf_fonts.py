"""The Unicode font every PDF of the application is written in: DejaVu Sans, bundled in `aap/fonts/`
(free licence beside it), so « œuvre », « € » and any name print as themselves."""

from pathlib import Path

from fpdf import FPDF

FONTS = Path(__file__).resolve().parent / "fonts"
FAMILY = "dejavu"
_FILES = {
    "": "DejaVuSans.ttf",
    "B": "DejaVuSans-Bold.ttf",
    "I": "DejaVuSans.ttf",
    "BI": "DejaVuSans-Bold.ttf",
}


def add_unicode_font(pdf: FPDF) -> None:
    """Register DejaVu Sans (regular, bold; italics drawn upright) under `FAMILY`."""
    for style, name in _FILES.items():
        pdf.add_font(FAMILY, style, str(FONTS / name))
