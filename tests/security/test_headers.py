"""Security headers on every answer, a CSP the pages keep (no inline script, style or handler in any
template), and API docs served from the package rather than a CDN."""

import re
from pathlib import Path

from fastapi.testclient import TestClient

from aap.app import create_app
from aap.settings import Settings

TEMPLATES = Path(__file__).parents[2] / "aap" / "web" / "templates"


def test_every_answer_carries_the_headers(client: TestClient) -> None:
    for url in ("/connexion", "/api/v1/health", "/api/v1/dossiers", "/static/app.js", "/nulle-part"):
        h = client.get(url).headers
        assert h["x-content-type-options"] == "nosniff", url
        assert h["referrer-policy"] == "strict-origin-when-cross-origin"
        csp = h["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self';" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "strict-transport-security" not in h  # served over plain HTTP here


def test_hsts_when_the_base_url_is_https(settings: Settings, db_engine) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings.model_copy(update={"base_url": "https://aap.example.fr"}), db_engine)
    with TestClient(app) as c:
        assert c.get("/connexion").headers["strict-transport-security"].startswith("max-age=")


def test_no_template_holds_an_inline_script_style_or_handler() -> None:
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"<style\b", r"\sstyle=", r"\son[a-z]+\s*="):
            offenders += [f"{path.name}: {m.group(0)}" for m in re.finditer(pattern, text)]
    assert offenders == []


def test_the_api_docs_load_swagger_from_this_server(client: TestClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/static/") for s in sources), sources
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text)
    for source in sources:
        assert client.get(source).status_code == 200, source
    assert "unsafe-inline" not in page.headers["content-security-policy"].split("script-src")[1].split(";")[0]
