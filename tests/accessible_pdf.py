"""What a screen reader finds in a PDF: is it tagged, in which language, under which title, and the
structure tree's elements (headings, paragraphs, tables, lists) with the text each one holds.

Read with pypdf, as any reader would: the catalog (/MarkInfo, /Lang, /StructTreeRoot), the XMP
metadata (PDF/UA identification) and the marked content of each page (its /MCID), so that an
element's text is the text the page draws inside it."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NumberObject


def plain(text: str) -> str:
    """Text as compared in tests: no-break spaces as spaces, runs of spaces as one."""
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


@dataclass
class Element:
    role: str
    text: str
    children: list[Element] = field(default_factory=list)

    def walk(self) -> list[Element]:
        return [self, *(e for child in self.children for e in child.walk())]

    def all(self, role: str) -> list[Element]:
        return [e for e in self.walk() if e.role == role]


@dataclass
class Reading:
    marked: bool
    lang: str | None
    title: str | None
    display_title: bool
    pdfua_part: str | None
    tree: Element | None
    text: str

    def all(self, role: str) -> list[Element]:
        return self.tree.all(role) if self.tree else []

    def texts(self, role: str) -> list[str]:
        return [e.text for e in self.all(role)]

    def headings(self) -> list[str]:
        return [e.text for e in (self.tree.walk() if self.tree else []) if e.role in ("H", "H1", "H2", "H3")]


def _marked_text(page: Any, number: int, found: dict[tuple[int, int], list[str]]) -> None:
    """Adds the text drawn inside each marked-content sequence of `page` (by its /MCID)."""
    stack: list[int | None] = []

    def before(op: bytes, args: list[Any], *_: Any) -> None:
        if op in (b"BDC", b"BMC"):
            props = args[1] if op == b"BDC" and len(args) > 1 else None
            props = props.get_object() if isinstance(props, IndirectObject) else props
            mcid = props.get("/MCID") if isinstance(props, DictionaryObject) else None
            stack.append(int(mcid) if mcid is not None else (stack[-1] if stack else None))
        elif op == b"EMC" and stack:
            stack.pop()

    def text(t: str, *_: Any) -> None:
        if stack and stack[-1] is not None:
            found.setdefault((number, stack[-1]), []).append(t)

    page.extract_text(visitor_operand_before=before, visitor_text=text)


def _page_contents(reader: PdfReader) -> dict[tuple[int, int], str]:
    """The text of each marked-content sequence, keyed by (page object number, MCID)."""
    found: dict[tuple[int, int], list[str]] = {}
    for page in reader.pages:
        ref = page.indirect_reference
        _marked_text(page, ref.idnum if ref is not None else -1, found)
    return {key: "".join(parts) for key, parts in found.items()}


def _element(node: DictionaryObject, page: int | None, contents: dict[tuple[int, int], str]) -> Element:
    if "/Pg" in node:
        page = node.raw_get("/Pg").idnum
    kids = node.get("/K")
    kids = kids if isinstance(kids, ArrayObject) else [] if kids is None else [kids]
    children: list[Element] = []
    parts: list[str] = []
    for kid in kids:
        kid = kid.get_object()
        if isinstance(kid, NumberObject | int):
            parts.append(contents.get((page if page is not None else -1, int(kid)), ""))
        elif isinstance(kid, DictionaryObject) and kid.get("/Type") == "/MCR":
            kid_page = kid.raw_get("/Pg").idnum if "/Pg" in kid else page
            parts.append(contents.get((kid_page if kid_page is not None else -1, int(kid["/MCID"])), ""))
        elif isinstance(kid, DictionaryObject) and "/S" in kid:
            child = _element(kid, page, contents)
            children.append(child)
            parts.append(child.text)
    return Element(str(node.get("/S", "")).lstrip("/"), plain(" ".join(parts)), children)


def read(content: bytes) -> Reading:
    reader = PdfReader(io.BytesIO(content))
    root = reader.trailer["/Root"]
    mark = root.get("/MarkInfo")
    prefs = root.get("/ViewerPreferences")
    tree_root = root.get("/StructTreeRoot")
    tree = None
    if tree_root is not None:
        tree = _element(tree_root.get_object(), None, _page_contents(reader))
    xmp = root.get("/Metadata")
    xmp_text = xmp.get_object().get_data().decode("utf-8", "replace") if xmp is not None else ""
    part = None
    for marker in ('pdfuaid:part="', "<pdfuaid:part>"):
        if marker in xmp_text:
            part = xmp_text.split(marker, 1)[1][:1]
    info = reader.metadata
    return Reading(
        marked=bool(mark and mark.get_object().get("/Marked")),
        lang=str(root["/Lang"]) if "/Lang" in root else None,
        title=info.title if info else None,
        display_title=bool(prefs and prefs.get_object().get("/DisplayDocTitle")),
        pdfua_part=part,
        tree=tree,
        text=plain(" ".join(page.extract_text() for page in reader.pages)),
    )


def accessible(content: bytes, title: str) -> Reading:
    """Asserts what every generated document owes a screen reader's user, and returns the reading."""
    doc = read(content)
    assert doc.marked, "the PDF is not tagged (/MarkInfo /Marked true)"
    assert doc.lang is not None and doc.lang.lower().split("-")[0] == "fr", doc.lang
    assert doc.title is not None and title in doc.title, doc.title
    assert doc.display_title, "readers must announce the title, not the file name"
    assert doc.pdfua_part == "1", "no PDF/UA-1 identification in the XMP metadata"
    assert doc.tree is not None, "no /StructTreeRoot"
    assert doc.all("H1"), f"no first-level heading: {[e.role for e in doc.tree.walk()][:40]}"
    assert doc.all("P")
    return doc


def table_rows(table: Element) -> list[list[str]]:
    """A table as a reader walks it: each row's header and data cells, in order."""
    return [[cell.text for cell in row.children if cell.role in ("TH", "TD")] for row in table.all("TR")]


def fonts(content: bytes) -> dict[str, bool]:
    """Each font the pages use, and whether its glyphs are embedded (no font taken from the reader's
    machine)."""
    out: dict[str, bool] = {}
    for page in PdfReader(io.BytesIO(content)).pages:
        resources = page.get("/Resources")
        font_dict = resources.get_object().get("/Font") if resources is not None else None
        for font in (font_dict.get_object() if font_dict is not None else {}).values():
            font = font.get_object()
            descriptors = [font.get("/FontDescriptor")] + [
                d.get_object().get("/FontDescriptor") for d in font.get("/DescendantFonts") or []
            ]
            embedded = any(
                d is not None and any(k in d.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3"))
                for d in descriptors
            )
            out[str(font.get("/BaseFont"))] = embedded
    return out
