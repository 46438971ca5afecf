"""Date helpers shared by the apps: day boundaries in UTC and calendar-month arithmetic."""

import calendar
import datetime as dt


def day_end(day: dt.date) -> dt.datetime:
    """The first instant after ``day`` (UTC): "on or before day" means ``< day_end(day)``."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole calendar months, clamped to the month's last day (2024-08-31 + 6 = 2025-02-28)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def utc_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(dt.UTC).date()
