"""One way to show money, numbers, percentages, dates, health and risk on every page, table and chart.

Money is the currency's code, or its sign where that is unambiguous (₩ for KRW), and whole units with thousands
separators ("USD 1,250,000", "₩1,234,567"); the full figure of one contract (``money_full``) has the currency's minor
unit ("EUR 20,000.00"; KRW and JPY have none); the short form of a chart's labels (``money_short``) is "12.3M" in
English and "12.3억", "4,500만" in Korean. Dates use the locale's one short format (``SHORT_DATE_FORMAT``: 06/30/2024
in English, 2024. 6. 30. in Korean: csm_platform/formats/) and times are in the user's time zone; a missing value is
"N/A" (never 0); negative numbers use the minus sign. The CSV export writes ISO dates (``iso_date``), for spreadsheets.
"""

import datetime as dt
import math
from decimal import Decimal

from django.conf import settings
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from health.models import AccountSnapshot

from .models import ForecastCategory


def na() -> str:
    return _("N/A")


def _missing(value) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


# Currencies without a minor unit (ISO 4217 exponent 0): never shown with decimals.
WHOLE_UNIT_CURRENCIES = {"KRW", "JPY"}
# A sign instead of the code where only one currency uses it.
SIGNS = {"KRW": "₩"}


def currency_prefix(currency: str | None = None) -> str:
    """What goes before an amount: "₩" or "USD " (the reporting currency unless told)."""
    code = currency or settings.REPORTING_CURRENCY
    return SIGNS.get(code, f"{code} ")


def _with_prefix(text: str, currency: str | None) -> str:
    """The prefix before the digits, the minus sign before both: "−₩1,000"."""
    sign, digits = ("−", text[1:]) if text.startswith("−") else ("", text)
    return f"{sign}{currency_prefix(currency)}{digits}"


def money(value: Decimal | float | None, currency: str | None = None) -> str:
    """An amount in whole units: "USD 1,250,000", "₩1,234,567"."""
    if _missing(value):
        return na()
    return _with_prefix(number(value), currency)


def money_full(value: Decimal | float | None, currency: str | None = None) -> str:
    """The full figure, to the currency's minor unit: "EUR 20,000.00", "₩1,234,567" (KRW has no minor unit)."""
    if _missing(value):
        return na()
    code = currency or settings.REPORTING_CURRENCY
    return _with_prefix(number(value, 0 if code in WHOLE_UNIT_CURRENCIES else 2), code)


def compact_number(value: Decimal | float | None) -> str:
    """A large amount made readable: "36.2M", "850K" in English; "12.3억", "4,500만" in Korean."""
    if _missing(value):
        return ""
    size = abs(float(value))
    if get_language() == "ko":
        text = f"{size / 1e8:,.1f}억" if size >= 1e8 else f"{size / 1e4:,.0f}만" if size >= 1e4 else f"{size:,.0f}"
    else:
        text = f"{size / 1e6:,.1f}M" if size >= 1e6 else f"{size / 1e3:,.0f}K" if size >= 1e3 else f"{size:,.0f}"
    return f"−{text}" if value < 0 else text


def money_short(value: Decimal | float | None, currency: str | None = None) -> str:
    """The short form with its currency: "USD 12.3M", "₩12.3억"."""
    if _missing(value):
        return na()
    return _with_prefix(compact_number(value), currency)


def money_or_reason(value: Decimal | None, reason: str = "") -> SafeString:
    """Money, or N/A with why (a missing exchange rate): never 0."""
    if not _missing(value):
        return format_html("{}", money(value))
    if not reason:
        return format_html('<span class="band band-na">{}</span>', na())
    return format_html(
        '<span class="band band-na" title="{}">{}</span> <span class="na-reason">{}</span>', reason, na(), reason
    )


def excludes(what: str, exclusions) -> str:
    """What a total leaves out: "ARR excludes 1 account: no GBP exchange rate on or before 2026-12-06"; empty
    when it leaves nothing out (``exclusions``: a ``selectors.quality.Exclusions``)."""
    if not exclusions:
        return ""
    return ngettext(
        "%(what)s excludes %(n)s account: %(reasons)s",
        "%(what)s excludes %(n)s accounts: %(reasons)s",
        exclusions.accounts,
    ) % {"what": what, "n": number(exclusions.accounts), "reasons": "; ".join(exclusions.reasons)}


def number(value: Decimal | float | int | None, decimals: int = 0) -> str:
    if _missing(value):
        return na()
    text = f"{abs(value):,.{decimals}f}"
    return f"−{text}" if value < 0 and text.strip("0.,") else text


def signed(value: float | None, decimals: int = 1) -> str:
    """A change: "+3.2", "−1.5", "0.0"."""
    if _missing(value):
        return na()
    text = number(value, decimals)
    return text if text.startswith("−") or not text.strip("0.,") else f"+{text}"


def percent(ratio: float | None, decimals: int = 0) -> str:
    if _missing(ratio):
        return na()
    return f"{number(ratio * 100, decimals)}%"


def date(value: dt.date | dt.datetime | None) -> str:
    """A day in the locale's short format; a moment's day in the user's time zone."""
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date()
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def datetime(value: dt.datetime | None) -> str:
    """A moment in the user's time zone, in the locale's short format, with the zone's abbreviation."""
    if value is None:
        return "—"
    local = timezone.localtime(value)
    return f"{formats.date_format(local, 'SHORT_DATE_FORMAT')} {local:%H:%M} {local.tzname()}"


def iso_date(value: dt.date | dt.datetime | None) -> str:
    """A day as ISO 8601 (the CSV export); a moment's day in the user's time zone."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date()
    return value.isoformat()


def iso_datetime(value: dt.datetime | None) -> str:
    """A moment as ISO 8601 with its offset, in the user's time zone (the CSV export)."""
    return "" if value is None else timezone.localtime(value).isoformat(timespec="minutes")


def health_badge(health: float | None, band: str | None) -> SafeString:
    """The score in its band's colour; N/A (every measure without data) in grey, never 0."""
    if _missing(health):
        return format_html(
            '<span class="band band-na" title="{}">{}</span>', _("No health: every measure lacked data"), na()
        )
    return format_html(
        '<span class="band band-{}" title="{}">{}</span>',
        band or "na",
        _("Health band: %s") % dict(AccountSnapshot.Band.choices).get(band, band),
        number(health),
    )


def health_change(change: float | None, days: int) -> SafeString:
    """▲/▼ and the points gained or lost over ``days`` (from the snapshots)."""
    if _missing(change):
        return format_html(
            '<span class="trend muted" title="{}">–</span>', _("No score %(days)s days ago") % {"days": days}
        )
    arrow = "▲" if change > 0 else "▼" if change < 0 else "="
    kind = "up" if change > 0 else "down" if change < 0 else "flat"
    title = _("%(change)s points since %(days)s days ago") % {"change": signed(change), "days": days}
    return format_html('<span class="trend trend-{}" title="{}">{} {}</span>', kind, title, arrow, signed(change))


def health_now(
    health: float | None, band: str | None, at: dt.datetime | None, *, night: tuple[float | None, str | None]
) -> SafeString:
    """ " · now 68 · 10:42" after the night's score when the account was re-scored since with another score or band
    (its current figures); nothing otherwise."""
    if at is None or (health, band) == night:
        return SafeString("")
    time = f"{timezone.localtime(at):%H:%M}"
    title = _("Re-scored at %(time)s after today's changes; the night's score stays the record") % {"time": time}
    return format_html(
        ' <span class="now" title="{}">{} {} · {}</span>', title, _("now"), health_badge(health, band), time
    )


def risk_badge(probability: float | None, band: str | None) -> SafeString:
    if _missing(probability):
        return format_html('<span class="band band-na">{}</span>', na())
    labels = {"high": _("high"), "medium": _("medium"), "low": _("low")}
    title = _("Probability of not renewing at the next renewal: %s") % percent(probability, 1)
    return format_html(
        '<span class="band risk-{}" title="{}">{} {}</span>',
        band or "na",
        title,
        percent(probability),
        labels.get(band, ""),
    )


def renewal_state(state: str) -> SafeString:
    labels = {"open": _("open"), "renewed": _("renewed"), "churned": _("churned")}
    colours = {"open": "yellow", "renewed": "green", "churned": "red"}
    return format_html('<span class="band band-{}">{}</span>', colours.get(state, "na"), labels.get(state, state))


def forecast_label(category: str) -> str:
    """A forecast category's label; "Not set" for a contract without one."""
    return str(dict(ForecastCategory.choices).get(category, _("Not set")))
