"""CSV export of a list page's table: the same rows (every page of them) and columns, spreadsheet-safe, with values
rounded as a person reads them (``csv_money``, ``csv_percent``, ``csv_number``)."""

import csv
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.http import HttpResponse

# A cell a spreadsheet would read as a formula (or a command) starts with one of these: prefix a quote (OWASP).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")  # full-width signs too
CENT = Decimal("0.01")


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


def csv_money(value: Decimal | None) -> Decimal | None:
    """Money to the cent (its currency is the column beside it)."""
    return None if value is None else Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def csv_percent(ratio: float | None) -> str:
    """A ratio as a percentage with one decimal: 0.9622 → "96.2%"."""
    return "" if ratio is None else f"{ratio * 100:.1f}%"


def csv_number(value: float | Decimal | None, decimals: int = 0) -> int | float | None:
    """A number rounded to ``decimals`` (whole: an int, so seats are 72, not 72.0)."""
    if value is None:
        return None
    return int(round(value)) if decimals == 0 else round(float(value), decimals)
