"""A porteur finds on the dossier page the notification letters its financers sent, and opens them."""

import re
from datetime import date

from fastapi.testclient import TestClient

from tests.web.staff_helpers import web_login


def test_the_dossier_page_links_the_financers_documents(client: TestClient, demo: date) -> None:
    web_login(client, "porteur@demo.aap.test")
    mine = client.get("/api/v1/dossiers", params={"state": "conventionne"}).json()["items"]
    assert mine, "the demo conventioned last year's dossiers"
    page = client.get(f"/dossiers/{mine[0]['id']}").text
    assert "Conventions, notifications et décisions" in page
    links = re.findall(rf'href="(/api/v1/dossiers/{mine[0]["id"]}/documents/\d+)"', page)
    assert len(links) == len(mine[0]["cofinancements"])  # one document per financer that accorded money
    pdf = client.get(links[0])
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
