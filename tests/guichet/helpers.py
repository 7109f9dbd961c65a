"""What the guichet tests share: files of each kind, uploads, a porteur whose organisation has no pièce."""

import io
import zipfile
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from aap.accounts.service import create_user
from aap.models import Organisation, Territory
from tests.api.helpers import Actor

# A minimal, well-formed one-page PDF (hand-written: header, catalog, pages, page, xref, trailer).
PDF = (
    b"%PDF-1.4\n"
    b"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n0000000101 00000 n \n"
    b"trailer<</Size 4/Root 1 0 R>>\nstartxref\n165\n%%EOF\n"
)
# The first bytes of a Linux executable: what a « statuts.pdf » must not be.
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


ODT = _zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<office:document/>"})
DOCX = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
XLSX = _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})
PLAIN_ZIP = _zip({"notes.txt": b"rien d'un document bureautique"})


def upload(
    actor: Actor,
    url: str,
    content: bytes,
    filename: str = "piece.pdf",
    kind: str | None = "statuts",
    content_type: str = "application/pdf",
):  # type: ignore[no-untyped-def]
    data = {"kind": kind} if kind is not None else {}
    return actor.client.post(
        url, headers=actor.headers, data=data, files={"file": (filename, content, content_type)}
    )


def porteur_without_pieces(client: Any, engine: Engine, email: str = "porteur3@demo.aap.test") -> Actor:
    """A porteur of a new association of the demo territory that has sent no pièce yet."""
    with Session(engine) as session:
        territory = session.scalar(select(Territory))
        assert territory is not None
        org = Organisation(
            territory_id=territory.id,
            kind="association",
            name="Collectif des Hautes Plaines",
            siret="73282932000074",
            rna="W041009999",
            address_line="1 rue Haute",
            postal_code="04100",
            city="Manosque",
        )
        session.add(org)
        session.flush()
        create_user(
            session,
            email=email,
            password="demo",
            role="porteur",
            full_name="Inès Roux",
            organisation_ids=(org.id,),
        )
        session.commit()
    return Actor(client, email)
