"""CSV export of a list page's table: the same rows (every page of them) and columns, spreadsheet-safe."""

import csv
import datetime as dt
from decimal import Decimal

from django.http import HttpResponse

# A cell a spreadsheet would read as a formula (or a command) starts with one of these: prefix a quote (OWASP).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")  # full-width signs too


def neutralise(value) -> str | int | float | Decimal:
    """Numbers stay numbers (a number cannot be a formula); text that starts like a formula gets a leading '."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def table_csv_response(table, *, name: str, today: dt.date) -> HttpResponse:
    """The table's rows as ``<name>-<today>.csv`` (header row first)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{today:%Y-%m-%d}.csv"'
    writer = csv.writer(response)
    for row in table.as_values():
        writer.writerow([neutralise(value) for value in row])
    return response
