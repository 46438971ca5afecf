"""Cell values the way spreadsheets and CRM exports write them, parsed into Python values.

Each parser takes a cell (a string from a CSV, or what openpyxl read from an XLSX: str, int, float, bool,
datetime) and returns the value or raises ``ValueError`` with the reason in words. An empty cell is ``None``
before any parser sees it.

- Dates: ISO (``2024-12-31``, with or without a time), ``12/31/2024`` (slashes: month first, as US exports
  write them), ``31.12.2024`` (dots: day first), and Excel serial day numbers (XLSX, 1900 date system).
- Numbers: thousands separators and currency signs or codes are dropped when unambiguous: ``$1,234.50``,
  ``1.234,50 €``, ``USD 1 234.50``. A lone comma followed by exactly three digits is a thousands separator
  (``1,234`` is 1234), a lone dot is a decimal point (``1.085`` is 1.085); anything that still reads two ways
  is refused.
- Booleans: TRUE/FALSE, yes/no, y/n, 1/0, x (and an empty cell is false).
"""

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 is 1900-01-01 (Excel counts a 1900-02-29 that never was)
TRUE = {"true", "t", "yes", "y", "1", "x", "on", "checked"}
FALSE = {"false", "f", "no", "n", "0", "off", "unchecked"}
CURRENCY_MARKS = re.compile(r"[$€£¥]|\b(?:USD|EUR|GBP|CAD|AUD|JPY)\b", re.IGNORECASE)
SPACES = re.compile(r"[\s\u00a0\u202f']")  # also NBSP, narrow NBSP and the Swiss apostrophe between thousands
SLASHED = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
DOTTED = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
YEAR_SLASHED = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")
TIME_SUFFIX = re.compile(r"^(\S+)[ T](\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?$")


def parse_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # an id typed as a number in a spreadsheet: 1001, not 1001.0
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def parse_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _excel_serial(value).date()
    text = str(value).strip()
    timed = TIME_SUFFIX.match(text)
    if timed:
        text = timed.group(1)
    for pattern, order in ((SLASHED, "mdy"), (DOTTED, "dmy"), (YEAR_SLASHED, "ymd")):
        match = pattern.match(text)
        if match:
            parts = dict(zip(order, (int(group) for group in match.groups()), strict=True))
            try:
                return dt.date(parts["y"], parts["m"], parts["d"])
            except ValueError:
                raise ValueError(_("%(text)s is not a date on the calendar") % {"text": text}) from None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return dt.datetime.fromisoformat(text).date()
    except ValueError:
        raise ValueError(
            _("not a date: write 2024-12-31, 12/31/2024 (month first) or 31.12.2024 (day first)")
        ) from None


def parse_datetime(value) -> dt.datetime:
    """A moment; one without an offset is taken as UTC (see ``csm_platform.validation.moment_checked``)."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _excel_serial(value)
    text = str(value).strip()
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        pass
    timed = TIME_SUFFIX.match(text)
    day = parse_date(timed.group(1) if timed else text)
    if not timed:
        return dt.datetime.combine(day, dt.time())
    hour, minute, second = int(timed.group(2)), int(timed.group(3)), int(timed.group(4) or 0)
    meridiem = (timed.group(5) or "").lower()
    if meridiem:
        if not 1 <= hour <= 12:
            raise ValueError(_("%(hour)s is not an hour on a 12-hour clock") % {"hour": hour})
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    try:
        return dt.datetime.combine(day, dt.time(hour, minute, second))
    except ValueError:
        raise ValueError(_("%(text)s has no such time of day") % {"text": text}) from None


def parse_decimal(value) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(_("a true/false value is not a number"))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    text = SPACES.sub("", CURRENCY_MARKS.sub("", str(value)))
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = "-" + text[1:-1]
    commas, dots = text.count(","), text.count(".")
    if commas and dots:
        # Both: the last one is the decimal mark, the other groups thousands (1,234.50 and 1.234,50).
        thousands, decimal = (",", ".") if text.rfind(".") > text.rfind(",") else (".", ",")
        if text.count(decimal) > 1:
            raise ValueError(_("more than one decimal mark"))
        text = text.replace(thousands, "").replace(decimal, ".")
    elif commas:
        groups = text.split(",")
        if all(len(group) == 3 for group in groups[1:]) and groups[0].lstrip("-"):
            text = text.replace(",", "")  # 1,234 and 1,234,567: thousands
        elif commas == 1:
            text = text.replace(",", ".")  # 1234,5: a decimal comma
        else:
            raise ValueError(_("commas that are neither thousands separators nor one decimal comma"))
    elif dots > 1:
        groups = text.split(".")
        if not all(len(group) == 3 for group in groups[1:]):
            raise ValueError(_("dots that are neither thousands separators nor one decimal point"))
        text = text.replace(".", "")  # 1.234.567: thousands
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(_("not a number")) from None
    if not number.is_finite():
        raise ValueError(_("not a number"))
    return number


def parse_integer(value) -> int:
    number = parse_decimal(value)
    if number != number.to_integral_value():
        raise ValueError(_("not a whole number"))
    return int(number)


def parse_boolean(value) -> bool:
    if isinstance(value, bool):
        return value
    text = parse_text(value).lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError(_("not a yes/no value: write TRUE or FALSE, yes or no, 1 or 0, or x for yes"))


def _excel_serial(value: float) -> dt.datetime:
    if not 1 <= value < 2958466:  # 2958466 is 10000-01-01
        raise ValueError(_("%(value)s is not an Excel date serial number") % {"value": value})
    return dt.datetime.combine(EXCEL_EPOCH, dt.time()) + dt.timedelta(days=value)
