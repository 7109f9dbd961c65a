"""Spreadsheet cells that stay text: a title a porteur typed as `=HYPERLINK(…)` must not become a live
formula when a financer opens the export (CSV or XLSX). Text starting with `= + - @`, a tab or a
carriage return gets a leading apostrophe, as OWASP recommends against CSV/formula injection."""

from typing import Any

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """The value, with a leading apostrophe when it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value
