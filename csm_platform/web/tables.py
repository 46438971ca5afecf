"""django-tables2 tables of the list pages. ``render_*`` formats for the page; ``value_*`` gives the plain value
the CSV export writes (``exports.table_csv_response``: money to the cent with a currency column beside it, ratios as
percentages with one decimal, counts whole, ISO dates), so the export has exactly the page's rows. The key columns
(account, health, ACV, renewal) come first, so a phone shows them without scrolling sideways."""

from urllib.parse import urlencode

import django_tables2 as tables
from django.conf import settings
from django.db.models import F
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_tables2.data import TableQuerysetData

from . import formatting as fmt
from .exports import csv_money, csv_number, csv_percent
from .selectors.portfolio import account_clv, acv_na_reason, receipt_inputs
from .selectors.renewals import DEFAULT_ORDER, RenewalState

NUMERIC = {"th": {"class": "num"}, "td": {"class": "num"}}


def _nulls_last(*fields: str):
    """A table ``order_<column>`` method: sort by ``fields`` with missing values last, then by name."""

    def order(self, queryset, is_descending):
        expressions = [F(f).desc(nulls_last=True) if is_descending else F(f).asc(nulls_last=True) for f in fields]
        return queryset.order_by(*expressions, "name", "pk"), True

    return order


def _in_list_order(*fields: str):
    """A table ``order_<column>`` method for the queryset of ``QuerysetRecords``: by ``fields`` as django-tables2
    sorts a list of the same records (missing values first going up, last going down; ties in the default order)."""

    def order(self, queryset, is_descending):
        expressions = [F(f).desc(nulls_last=True) if is_descending else F(f).asc(nulls_first=True) for f in fields]
        return queryset.order_by(*expressions, *DEFAULT_ORDER), True

    return order


class QuerysetRecords(TableQuerysetData):
    """A queryset as table data whose records are made from its objects by ``record``, a page at a time: the table
    sorts it in SQL with its ``order_<column>`` methods, and its length is ``count``, known already (no COUNT)."""

    def __init__(self, queryset, *, count: int, record):
        super().__init__(queryset)
        self.count, self.record = count, record

    def __len__(self):
        return self.count

    def __getitem__(self, key):
        if isinstance(key, slice):
            return [self.record(item) for item in self.data[key]]
        return self.record(self.data[key])

    def __iter__(self):
        return (self.record(item) for item in self.data.iterator(chunk_size=2000))


def _full_name(user) -> str:
    return str(user) if user else "—"


def _currency(verbose_name) -> tables.Column:
    """Export only: the reporting currency's code, beside a money column."""
    return tables.Column(verbose_name=verbose_name, accessor="pk", empty_values=(), visible=False, orderable=False)


def _reporting_currency(self) -> str:
    return settings.REPORTING_CURRENCY


class BaseTable(tables.Table):
    class Meta:
        template_name = "web/includes/table.html"
        attrs = {"class": "data"}

    def body(self) -> list[list[tuple[str, str]]]:
        """The page's rows as (``<td>`` attributes, cell) pairs. Each column's attributes are computed once: the
        stock template re-derives them for every cell, which made it the slowest part of a 50-row page."""
        columns = [(column.name, column.attrs["td"].as_html()) for column in self.columns]
        return [[(attrs, row.get_cell(name)) for name, attrs in columns] for row in self.paginated_rows]


class PortfolioTable(BaseTable):
    select = tables.Column(
        verbose_name=_("Pick"),
        accessor="pk",
        orderable=False,
        exclude_from_export=True,
    )
    name = tables.Column(verbose_name=_("Account"), linkify=("web:account", {"pk": tables.A("pk")}))
    owner = tables.Column(verbose_name=_("CSM"), order_by=("owner__first_name", "owner__last_name"))
    segment = tables.Column(verbose_name=_("Segment"))
    stage = tables.Column(verbose_name=_("Stage"), accessor="stage_name", default="—")
    health = tables.Column(
        verbose_name=_("Health"),
        empty_values=(),
        attrs={"th": {"title": _("Latest nightly health score, band colour, and change over 30 days")}},
    )
    acv = tables.Column(verbose_name=_("ACV"), attrs=NUMERIC, empty_values=())
    next_renewal = tables.Column(verbose_name=_("Next renewal"), default="—")
    churn_risk = tables.Column(verbose_name=_("Churn risk"), accessor="churn_probability", empty_values=())
    clv = tables.Column(
        verbose_name=_("CLV"),
        empty_values=(),
        orderable=False,
        attrs={**NUMERIC, "th": {"class": "num", "title": _("Remaining lifetime value: ACV × m × (1 − p) / (r + p)")}},
    )
    usage = tables.Column(
        verbose_name=_("MAU / seats"),
        accessor="snapshot_measures",
        orderable=False,
        exclude_from_export=True,
        empty_values=(),
        attrs={**NUMERIC, "th": {"class": "num", "title": _("Monthly active users of licensed seats, last 30 days")}},
    )
    last_touch = tables.Column(verbose_name=_("Last CSM touch"), default="—")
    open_tasks = tables.Column(verbose_name=_("Open tasks"), attrs=NUMERIC)
    # Export-only columns (hidden on the page).
    external_id = tables.Column(verbose_name=_("CRM id"), visible=False)
    account_executive = tables.Column(verbose_name=_("AE"), visible=False)
    band = tables.Column(verbose_name=_("Health band"), visible=False)
    health_change_30 = tables.Column(verbose_name=_("Health change, 30 days"), visible=False)
    risk_band = tables.Column(verbose_name=_("Risk band"), visible=False)
    acv_na = tables.Column(verbose_name=_("ACV N/A because"), empty_values=(), visible=False)
    as_of = tables.Column(verbose_name=_("As of (night)"), accessor="snapshot_as_of", visible=False)
    mau = tables.Column(verbose_name=_("MAU"), accessor="snapshot_measures", visible=False)
    seats = tables.Column(verbose_name=_("Seats"), accessor="snapshot_measures", visible=False)
    acv_currency = _currency(_("ACV currency"))
    clv_currency = _currency(_("CLV currency"))

    order_stage = _nulls_last("stage_order")
    order_health = _nulls_last("health")
    order_acv = _nulls_last("acv")
    order_next_renewal = _nulls_last("next_renewal")
    order_churn_risk = _nulls_last("churn_probability")
    order_last_touch = _nulls_last("last_touch")

    class Meta(BaseTable.Meta):
        empty_text = _("No account matches these filters.")
        sequence = (
            "select",
            "name",
            "health",
            "acv",
            "acv_currency",
            "next_renewal",
            "churn_risk",
            "owner",
            "segment",
            "stage",
            "clv",
            "clv_currency",
            "...",
        )

    def render_select(self, record):
        return format_html(
            '<input type="checkbox" name="accounts" value="{}" form="bulk-assign" aria-label="{}">',
            record.pk,
            _("Select %(account)s") % {"account": record.name},
        )

    def render_owner(self, value):
        return _full_name(value)

    def value_owner(self, value):
        return _full_name(value)

    def render_health(self, record):
        return format_html(
            "{} {}{}",
            fmt.health_badge(record.health, record.band),
            fmt.health_change(record.health_change_30, 30),
            fmt.health_now(
                getattr(record, "current_health", None),
                getattr(record, "current_band", None),
                getattr(record, "current_at", None),
                night=(record.health, record.band),
            ),
        )

    def value_health(self, record):
        return csv_number(record.health)

    def value_health_change_30(self, value):
        return csv_number(value)

    def render_acv(self, record):
        return fmt.money_or_reason(record.acv, acv_na_reason(record))

    def value_acv(self, record):
        return csv_money(record.acv)

    value_acv_currency = value_clv_currency = _reporting_currency

    def value_acv_na(self, record):
        return acv_na_reason(record)

    def render_clv(self, record):
        return fmt.money(account_clv(record))

    def value_clv(self, record):
        return csv_money(account_clv(record))

    def value_as_of(self, value):
        return fmt.iso_date(value)

    def render_next_renewal(self, value):
        return fmt.date(value)

    def value_next_renewal(self, value):
        return fmt.iso_date(value)

    def render_churn_risk(self, record):
        return fmt.risk_badge(record.churn_probability, record.risk_band)

    def value_churn_risk(self, record):
        return csv_percent(record.churn_probability)

    def render_usage(self, value):
        inputs = receipt_inputs(value, "license_utilization")
        return f"{fmt.number(inputs.get('mau'))} / {fmt.number(inputs.get('seats'))}"

    def value_mau(self, value):
        return csv_number(receipt_inputs(value, "license_utilization").get("mau"))

    def value_seats(self, value):
        return csv_number(receipt_inputs(value, "license_utilization").get("seats"))

    def render_last_touch(self, value):
        return fmt.date(value)

    def value_last_touch(self, value):
        return fmt.iso_date(value)

    def render_account_executive(self, value):
        return _full_name(value)


class RenewalTable(BaseTable):
    """Rows of ``selectors.renewals``: a list read live (sorted in Python, missing values first going up), or the
    night's stored rows as ``QuerysetRecords`` (sorted in SQL by the ``order_*`` methods, in the same order)."""

    account = tables.Column(
        verbose_name=_("Account"),
        accessor="account__name",
        linkify=lambda record: reverse("web:account", args=[record.account.pk]),
    )
    contract = tables.Column(verbose_name=_("Contract"), accessor="contract__external_id")
    end_date = tables.Column(verbose_name=_("Ends"), accessor="contract__end_date")
    state = tables.Column(
        verbose_name=_("State"),
        attrs={
            "th": {"title": _("Open: ends today or later, no successor; renewed: a successor exists; churned: ended")}
        },
    )
    owner = tables.Column(
        verbose_name=_("CSM"),
        accessor="account__owner",
        order_by=("account__owner__first_name", "account__owner__last_name"),
        default="—",
    )
    account_executive = tables.Column(
        verbose_name=_("AE"),
        accessor="account__account_executive",
        order_by=("account__account_executive__first_name", "account__account_executive__last_name"),
        default="—",
    )
    acv = tables.Column(
        verbose_name=_("ACV"),
        empty_values=(),
        attrs={
            **NUMERIC,
            "th": {"class": "num", "title": _("Recurring value ÷ term in years, at the evaluation date's rate")},
        },
    )
    health = tables.Column(verbose_name=_("Health"), empty_values=())
    churn_risk = tables.Column(verbose_name=_("Churn risk"), accessor="churn_probability", empty_values=())
    expected = tables.Column(
        verbose_name=_("Expected renewal"),
        empty_values=(),
        attrs={**NUMERIC, "th": {"class": "num", "title": _("ACV × (1 − churn probability), open renewals only")}},
    )
    category = tables.Column(verbose_name=_("Forecast"), empty_values=())
    # Export-only columns (hidden on the page).
    band = tables.Column(verbose_name=_("Health band"), visible=False)
    risk_band = tables.Column(verbose_name=_("Risk band"), visible=False)
    acv_na = tables.Column(verbose_name=_("ACV N/A because"), accessor="acv_na_reason", visible=False)
    amount = tables.Column(verbose_name=_("Forecast amount"), accessor="contract__forecast__amount", visible=False)
    note = tables.Column(verbose_name=_("Forecast note"), accessor="contract__forecast__note", visible=False)
    set_by = tables.Column(
        verbose_name=_("Forecast set by"),
        accessor="contract__forecast__set_by",
        order_by=("contract__forecast__set_by__first_name", "contract__forecast__set_by__last_name"),
        visible=False,
    )
    set_at = tables.Column(verbose_name=_("Forecast set at"), accessor="contract__forecast__set_at", visible=False)
    acv_currency = _currency(_("ACV currency"))
    expected_currency = _currency(_("Expected renewal currency"))
    amount_currency = _currency(_("Forecast amount currency"))
    next_step = tables.Column(
        verbose_name=_("Next step"), accessor="contract__forecast__next_step", default="—", orderable=False
    )

    # The stored rows' queryset (a Contract queryset with the row annotations), sorted as the list would be.
    order_account = _in_list_order("account__name")
    order_contract = _in_list_order("external_id")
    order_end_date = _in_list_order("end_date")
    order_state = _in_list_order("state")
    order_owner = _in_list_order("account__owner__first_name", "account__owner__last_name")
    order_account_executive = _in_list_order(
        "account__account_executive__first_name", "account__account_executive__last_name"
    )
    order_acv = _in_list_order("acv")
    order_health = _in_list_order("health")
    order_churn_risk = _in_list_order("churn_probability")
    order_expected = _in_list_order("expected")
    order_category = _in_list_order("category")
    order_band = _in_list_order("band")
    order_risk_band = _in_list_order("risk_band")
    order_acv_na = _in_list_order("acv_na_currency")  # the reason is "" or names the currency lacking a rate
    order_amount = _in_list_order("forecast__amount")
    order_note = _in_list_order("forecast__note")
    order_set_by = _in_list_order("forecast__set_by__first_name", "forecast__set_by__last_name")
    order_set_at = _in_list_order("forecast__set_at")

    class Meta(BaseTable.Meta):
        empty_text = _("No contract ends in this period.")
        sequence = (
            "account",
            "health",
            "acv",
            "acv_currency",
            "end_date",
            "state",
            "churn_risk",
            "expected",
            "expected_currency",
            "category",
            "amount",
            "amount_currency",
            "next_step",
            "contract",
            "owner",
            "account_executive",
            "...",
        )

    value_acv_currency = value_expected_currency = value_amount_currency = _reporting_currency

    def value_amount(self, value):
        return csv_money(value)

    def value_next_step(self, value):
        return "" if value == "—" else value

    def render_owner(self, value):
        return _full_name(value)

    def value_owner(self, value):
        return _full_name(value)

    def render_account_executive(self, value):
        return _full_name(value)

    def value_account_executive(self, value):
        return _full_name(value)

    def render_end_date(self, value):
        return fmt.date(value)

    def value_end_date(self, value):
        return fmt.iso_date(value)

    def render_state(self, value):
        return fmt.renewal_state(value)

    def value_state(self, value):
        return RenewalState(value).label

    def render_acv(self, record):
        return fmt.money_or_reason(record.acv, record.acv_na_reason)

    def value_acv(self, record):
        return csv_money(record.acv)

    def render_health(self, record):
        return fmt.health_badge(record.health, record.band)

    def value_health(self, record):
        return csv_number(record.health)

    def render_churn_risk(self, record):
        return fmt.risk_badge(record.churn_probability, record.risk_band)

    def value_churn_risk(self, record):
        return csv_percent(record.churn_probability)

    def render_expected(self, record):
        if record.state != RenewalState.OPEN:
            return format_html('<span class="muted" title="{}">—</span>', _("Decided: no expected value"))
        return fmt.money(record.expected)

    def value_expected(self, record):
        return csv_money(record.expected)

    def render_category(self, record):
        if record.state != RenewalState.OPEN:
            return format_html('<span class="muted">{}</span>', _("no forecast: decided"))
        label = fmt.forecast_label(record.category)
        amount = record.forecast.amount if record.forecast else None
        amount_text = format_html(' <span class="muted">{}</span>', fmt.money(amount)) if amount is not None else ""
        if not record.can_forecast:
            return format_html('<span class="forecast forecast-{}">{}</span>{}', record.category, label, amount_text)
        url = reverse("web:forecast", args=[record.contract.pk])
        return format_html(
            '<span class="forecast forecast-{}">{}</span>{} <a href="{}?{}" aria-label="{}">{}</a>',
            record.category,
            label,
            amount_text,
            url,
            urlencode({"next": self.request.get_full_path() if self.request else ""}),
            _("Set the forecast of %(contract)s") % {"contract": record.contract.external_id},
            _("Set"),
        )

    def value_category(self, record):
        return fmt.forecast_label(record.category)

    def render_set_by(self, value):
        return _full_name(value)

    def value_set_at(self, value):
        return fmt.iso_datetime(value)
