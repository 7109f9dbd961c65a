"""The Atom feed of a territory's calls (RFC 4287): associations subscribe to hear of a new call."""

from datetime import date, datetime, time
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from aap.models import Campaign, Territory
from aap.opendata.service import published_on
from workflows.reasons import fr_date

ATOM = "http://www.w3.org/2005/Atom"


def calls_url(base_url: str, territory: Territory) -> str:
    return f"{base_url.rstrip('/')}/territoires/{territory.code}/appels"


def call_url(base_url: str, territory: Territory, campaign: Campaign) -> str:
    return f"{calls_url(base_url, territory)}/{campaign.code}"


def _stamp(day: date, timezone: str) -> str:
    return datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(timezone)).isoformat()


def calls_feed(territory: Territory, calls: list[Campaign], base_url: str, generated: date) -> bytes:
    """One entry per public call, newest first; its id and link are the call's public page. Its days
    are stamped at midnight in the territory's zone."""
    timezone = territory.fuseau
    ET.register_namespace("", ATOM)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    feed = ET.Element(f"{{{ATOM}}}feed", {"xml:lang": "fr"})
    home = calls_url(base_url, territory)
    sub(feed, "title", f"Appels à projets — {territory.name}")
    sub(
        feed,
        "subtitle",
        "Les appels à projets du contrat de ville : dates, pièces à joindre, comment déposer.",
    )
    sub(feed, "id", home)
    sub(feed, "link", rel="self", type="application/atom+xml", href=f"{home}.atom")
    sub(feed, "link", rel="alternate", type="text/html", href=home)
    author = sub(feed, "author")
    sub(author, "name", territory.name)
    newest = max((published_on(c) for c in calls), default=generated)
    sub(feed, "updated", _stamp(newest, timezone))
    for campaign in calls:
        entry = sub(feed, "entry")
        url = call_url(base_url, territory, campaign)
        sub(entry, "id", url)
        sub(entry, "title", campaign.title)
        sub(entry, "link", rel="alternate", type="text/html", href=url)
        day = _stamp(published_on(campaign), timezone)
        sub(entry, "published", day)
        sub(entry, "updated", day)
        sub(
            entry,
            "summary",
            f"Dépôt des dossiers du {fr_date(campaign.depot_ouverture)} au {fr_date(campaign.depot_cloture)} "
            f"(appel {campaign.year}).",
        )
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(
        feed, encoding="utf-8", xml_declaration=False
    )
