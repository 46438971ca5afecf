"""One validation of untrusted values, for every way in: the tracking API, the REST API's filters, CSV uploads and
the services behind them. A value that passes can be stored and read back; one that does not is refused with a
clear message (a 400, a per-call or a per-row error), never stored to break a later read.

- A date-time is kept in UTC, and only when UTC puts it within the years 1 to 9999. PostgreSQL would store
  ``0001-01-01T00:00:00+14:00`` as a date BC that Python cannot read back (every list showing it would fail), and
  refuses offsets past ±15:59 (``+21:00``) that Python accepts; in UTC, neither happens.
- Text has no NUL character (PostgreSQL's text and jsonb refuse it) and fits its column.

DRF's serializer fields apply the same rules already (``DateTimeField`` converts to UTC and refuses an overflow,
``CharField`` refuses NUL and checks ``max_length``), and so do Django's form fields for text.
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters import IsoDateTimeFilter
from django_filters.fields import IsoDateTimeField

NUL = "\x00"


def moment_checked(value: dt.datetime) -> dt.datetime:
    """``value`` in UTC (a naive one is taken as UTC); ``ValidationError`` when UTC is outside the years 1 to 9999."""
    if timezone.is_naive(value):
        return value.replace(tzinfo=dt.UTC)
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValidationError(
            _("%(value)s is outside the years 1 to 9999 once converted to UTC."),
            code="datetime_range",
            params={"value": value.isoformat()},
        ) from None


def text_checked(value: str, *, max_length: int | None = None) -> str:
    """``value`` when it has no NUL character and at most ``max_length`` characters, else ``ValidationError``."""
    if NUL in value:
        raise ValidationError(_("Text must not contain NUL characters."), code="null_characters_not_allowed")
    if max_length is not None and len(value) > max_length:
        raise ValidationError(
            _("Text may have at most %(max_length)s characters (it has %(length)s)."),
            code="max_length",
            params={"max_length": max_length, "length": len(value)},
        )
    return value


def has_nul(value: object) -> bool:
    """Whether a NUL character is in any string (key or value) of a JSON value."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(has_nul(key) or has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(has_nul(item) for item in value)
    return False


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time query parameter, in UTC (see ``moment_checked``)."""

    def to_python(self, value):
        moment = super().to_python(value)
        return None if moment is None else moment_checked(moment)


class UtcIsoDateTimeFilter(IsoDateTimeFilter):
    """``IsoDateTimeFilter`` whose value is converted to UTC and refused outside the years 1 to 9999."""

    field_class = UtcIsoDateTimeField
