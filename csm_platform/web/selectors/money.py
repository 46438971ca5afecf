"""Converting contract values into the reporting currency at any date, for pages that show many dates or rows."""

import bisect
import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_EVEN, Decimal

from django.conf import settings

from accounts.models import ExchangeRate
from accounts.selectors import CENT


class RateBook:
    """Every exchange rate of some currencies, to convert at any date (one query)."""

    def __init__(self, currencies: set[str]):
        self.reporting = settings.REPORTING_CURRENCY
        self.dates: dict[str, list[dt.date]] = defaultdict(list)
        self.rates: dict[str, list[Decimal]] = defaultdict(list)
        wanted = currencies - {self.reporting}
        if wanted:
            rows = ExchangeRate.objects.filter(currency__in=wanted).order_by("currency", "date")
            for currency, date, rate in rows.values_list("currency", "date", "rate"):
                self.dates[currency].append(date)
                self.rates[currency].append(rate)

    def convert(self, amount: Decimal, currency: str, day: dt.date) -> Decimal | None:
        """``amount`` at the latest rate dated on or before ``day``; None without one."""
        if currency == self.reporting:
            return amount
        position = bisect.bisect_right(self.dates[currency], day)
        if not position:
            return None
        return (amount * self.rates[currency][position - 1]).quantize(CENT, rounding=ROUND_HALF_EVEN)
