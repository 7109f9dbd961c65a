"""Every PDF the application writes for people: a Jinja2 HTML template rendered by WeasyPrint as a
tagged, accessible PDF (PDF/UA-1: structure tree of headings, paragraphs, tables and lists, document
language « fr », title shown by readers).

The templates extend ``_document.html.j2`` (`aap/pdf_templates/`), which sets ``<html lang="fr">``,
the ``<title>`` and the print stylesheet. Text is set in DejaVu Sans, bundled in `aap/fonts/` (free
licence beside it) and loaded through @font-face, so « œuvre », « € » and any name print as
themselves on any machine, whatever fonts the system has. WeasyPrint needs Pango (Debian:
libpango-1.0-0, libpangoft2-1.0-0).

WeasyPrint is imported on the first document, not when the application starts. Rendering is
serialized: WeasyPrint and the fontconfig set-up it shares are not documented as
thread-safe, and FastAPI runs synchronous routes in threads. A document takes a fraction of a second.
"""

from __future__ import annotations

import atexit
import threading
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

PACKAGE = Path(__file__).resolve().parent
FONTS = PACKAGE / "fonts"
TEMPLATES = PACKAGE / "pdf_templates"
STYLESHEET = TEMPLATES / "document.css"
VARIANT = "pdf/ua-1"
AUTHOR = "aap - guichet unique du contrat de ville"
_lock = threading.Lock()


@cache
def environment(folder: Path) -> Environment:
    """The Jinja2 environment of a module's document templates (`folder`), which extend the layout."""
    return Environment(
        loader=ChoiceLoader([FileSystemLoader(folder), FileSystemLoader(TEMPLATES)]),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(folder: Path, template: str, context: dict[str, Any]) -> str:
    """The document as HTML: `template` (in `folder`) with `context`; it names its own title."""
    return environment(folder).get_template(template).render(**context)


def _fetcher() -> Any:
    """Only the bundled fonts and stylesheet may be loaded: nothing from the network or elsewhere."""
    from weasyprint import URLFetcher

    allowed = (FONTS.as_uri() + "/", TEMPLATES.as_uri() + "/")

    class BundledOnly(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            if not url.startswith(allowed):
                raise ValueError(f"Ressource refusée dans un document : {url}")
            return super().fetch(url, headers)

    return BundledOnly(allowed_protocols=("file",))


@cache
def _tools() -> tuple[Any, Any, Any]:
    """WeasyPrint's font set-up and the stylesheet, loaded once (the fonts are parsed once)."""
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    fetcher = _fetcher()
    fonts = FontConfiguration()
    css = CSS(filename=str(STYLESHEET), font_config=fonts, url_fetcher=fetcher)
    return fonts, css, fetcher


@atexit.register
def _release() -> None:
    """WeasyPrint copies the fonts into a temporary folder that its font set-up removes when freed:
    free it while the interpreter still runs."""
    _tools.cache_clear()


def html_to_pdf(html: str, *, title: str | None = None, now: datetime | None = None) -> bytes:
    """`html` (a document extending the layout) as tagged PDF/UA-1 bytes.

    `title` replaces the document's ``<title>`` in the metadata when given; `now` dates the file
    (creation and modification), so the same document rendered twice has the same bytes."""
    from weasyprint import HTML

    with _lock:
        fonts, css, fetcher = _tools()
        document = HTML(string=html, base_url=TEMPLATES.as_uri() + "/", url_fetcher=fetcher).render(
            stylesheets=[css], font_config=fonts, pdf_variant=VARIANT
        )
        metadata = document.metadata
        if title:
            metadata.title = title
        metadata.lang = metadata.lang or "fr"
        metadata.authors = metadata.authors or [AUTHOR]
        if now is not None:
            aware = now if now.tzinfo else now.replace(tzinfo=UTC)  # stored times are UTC
            stamp = aware.replace(microsecond=0).isoformat()
            metadata.created = metadata.created or stamp
            metadata.modified = metadata.modified or stamp
        content = document.write_pdf(pdf_variant=VARIANT, pdf_identifier=True)
    return bytes(content)


def render(
    folder: Path,
    template: str,
    context: dict[str, Any],
    *,
    title: str | None = None,
    now: datetime | None = None,
) -> bytes:
    """HTML template → tagged PDF bytes (see `html_to_pdf`)."""
    return html_to_pdf(render_html(folder, template, context), title=title, now=now)
