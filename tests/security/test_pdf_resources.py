"""A generated document loads nothing but the bundled fonts and stylesheet: no file of the server, no
address on the network, even if a template were given one."""

import io
from pathlib import Path

from pypdf import PdfReader


def test_a_document_loads_no_file_or_address_other_than_its_fonts(tmp_path: Path) -> None:
    from PIL import Image  # WeasyPrint's own dependency

    from aap import pdf

    secret = tmp_path / "secret.png"
    Image.new("RGB", (4, 4), "red").save(secret)  # drawn as an image XObject if it were loaded
    html = (
        '<!DOCTYPE html><html lang="fr"><head><title>Essai</title>'
        '<link rel="stylesheet" href="http://127.0.0.1:9/x.css"></head><body><h1>Essai « œuvre »</h1>'
        f'<img alt="" src="{secret.as_uri()}"><img alt="" src="http://127.0.0.1:9/x.png"></body></html>'
    )
    content = pdf.html_to_pdf(html)
    page = PdfReader(io.BytesIO(content)).pages[0]
    assert "Essai « œuvre »" in page.extract_text()
    assert not page["/Resources"].get("/XObject")  # neither image was drawn
