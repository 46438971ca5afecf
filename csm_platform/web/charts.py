"""Plotly figure builders: each takes rows already read by a selector and returns an HTML fragment (plotly.js is
served from our static files and loaded once by the page), or None when there is nothing to draw.

Figures are written as plain dicts, never validated: building ``graph_objects`` validates every property, about
50 ms a chart, which was most of an account page's time. The shapes are fixed here and rendered by the tests and the
browser tests.
"""

import json

import pandas as pd
from django.utils.html import format_html
from django.utils.translation import gettext as _
from plotly.utils import PlotlyJSONEncoder

from health.revenue import Waterfall

from . import formatting as fmt

BAND_COLOURS = {"red": "#b42318", "yellow": "#b07800", "green": "#17663a", "na": "#8a939e"}
SERIES = ["#1f5fbf", "#b07800", "#17663a", "#b42318", "#4e9a6b"]
GRID = "#e3e7ec"
AXIS = {"automargin": True, "gridcolor": GRID, "linecolor": GRID, "zerolinecolor": GRID}
# Monthly series are drawn on a category axis of month labels ("2024-06"), one per month: a bar sits centred on
# its label (a date axis puts a month-end bar at the end of its month, off the label, and may tick a month twice).
MONTHLY = {"type": "category"}


def _html(
    data: list[dict], *, height: int = 300, xaxis: dict | None = None, yaxis: dict | None = None, **layout
) -> str:
    figure = {
        "data": data,
        "layout": {
            "template": {},
            "paper_bgcolor": "#ffffff",
            "plot_bgcolor": "#ffffff",
            "height": height,
            "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
            "font": {
                "family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif",
                "size": 13,
                "color": "#1b1f24",
            },
            "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
            "hovermode": "x unified",
            "separators": ".,",
            "xaxis": {**AXIS, **(xaxis or {})},
            "yaxis": {**AXIS, **(yaxis or {})},
            **layout,
        },
        "config": {"displaylogo": False, "responsive": True},
    }
    # The figure travels as JSON in a data attribute and static/js/charts.js draws it: the pages run no inline
    # script (Content-Security-Policy). Plotly's encoder writes dates, NumPy and pandas values (NaN as null).
    return format_html('<div class="chart" data-figure="{}"></div>', json.dumps(figure, cls=PlotlyJSONEncoder))


def _money(**extra) -> dict:
    return {"tickprefix": fmt.currency_prefix(), "tickformat": ",.0f", **extra}


def _floats(series: pd.Series) -> list:
    """Decimals (money) as floats for the chart; missing values as gaps."""
    return [None if pd.isna(value) else float(value) for value in series]


def _months(days) -> list[str]:
    """Month labels of dates ("2024-06"), one per month."""
    return [f"{day:%Y-%m}" for day in days]


def compact_money(value: float | None) -> str:
    """A bar's value label in the reader's language: "36.2M", "850K", "−1.2M"; "12.3억" (the axis says the
    currency)."""
    return fmt.compact_number(value)


def trend_range(values: list[float | None]) -> list[float] | None:
    """A y range around the values (not from zero), so that a 36M → 42M trend is visible; never below zero for
    values that are not; None when empty."""
    shown = [value for value in values if value is not None]
    if not shown:
        return None
    low, high = min(shown), max(shown)
    pad = (high - low) * 0.3 or abs(high) * 0.05 or 1.0
    return [max(low - pad, 0.0) if low >= 0 else low - pad, high + pad]


def health_history(frame: pd.DataFrame) -> str | None:
    """Nightly health, each point in its band's colour; N/A nights are gaps, never 0."""
    if frame.empty or frame["health"].isna().all():
        return None
    trace = {
        "type": "scatter",
        "x": list(frame["as_of"]),
        "y": _floats(frame["health"]),
        "mode": "lines+markers",
        "name": _("Health"),
        "line": {"color": "#5b6470", "width": 1.5},
        "marker": {"color": [BAND_COLOURS.get(b, BAND_COLOURS["na"]) for b in frame["band"]], "size": 6},
        "connectgaps": False,
        "hovertemplate": "%{y:.1f}<extra></extra>",
    }
    return _html([trace], height=260, yaxis={"range": [0, 100], "title": {"text": _("Health")}})


def daily_active_users(frame: pd.DataFrame) -> str | None:
    if frame.empty or not frame["active_users"].any():
        return None
    trace = {
        "type": "bar",
        "x": list(frame["day"]),
        "y": [int(n) for n in frame["active_users"]],
        "name": _("Daily active users"),
        "marker": {"color": SERIES[0]},
    }
    return _html([trace], height=240, yaxis={"title": {"text": _("Users")}, "rangemode": "tozero"})


def events_by_feature(frame: pd.DataFrame, *, top: int = 12) -> str | None:
    if frame.empty:
        return None
    shown = frame.head(top).iloc[::-1]
    trace = {
        "type": "bar",
        "orientation": "h",
        "x": [int(n) for n in shown["events"]],
        "y": list(shown["feature"]),
        "marker": {"color": SERIES[0]},
    }
    return _html(
        [trace],
        height=max(200, 26 * len(shown) + 60),
        xaxis={"title": {"text": _("Events")}, "tickformat": ",d"},
        hovermode="y unified",
    )


def seats_vs_users(frame: pd.DataFrame) -> str | None:
    """Monthly active users (bars) against licensed seats (line)."""
    if frame.empty:
        return None
    months = list(frame["month"])
    data = [
        {
            "type": "bar",
            "x": months,
            "y": [int(n) for n in frame["users"]],
            "name": _("Monthly active users"),
            "marker": {"color": SERIES[0]},
        },
        {
            "type": "scatter",
            "x": months,
            "y": _floats(frame["seats"]),
            "name": _("Licensed seats"),
            "mode": "lines+markers",
            "line": {"color": SERIES[3], "shape": "hv"},
        },
    ]
    return _html(data, height=240, yaxis={"title": {"text": _("Users")}, "rangemode": "tozero"})


def acv_history(frame: pd.DataFrame) -> str | None:
    if frame.empty:
        return None
    trace = {
        "type": "scatter",
        "x": list(frame["day"]),
        "y": _floats(frame["acv"]),
        "mode": "lines",
        "line": {"shape": "hv", "color": SERIES[0]},
        "name": _("ACV"),
    }
    return _html([trace], height=220, yaxis=_money(rangemode="tozero"))


def arr_by_month(frame: pd.DataFrame) -> str | None:
    """ARR at each month's end (the evaluation date for the last one): one bar per month, centred on its label, with
    its value; the axis starts near the lowest month (not at zero), so the trend is visible."""
    if frame.empty:
        return None
    values = _floats(frame["arr"])
    trace = {
        "type": "bar",
        "x": _months(frame["month"]),
        "y": values,
        "name": _("ARR"),
        "marker": {"color": SERIES[0]},
        "text": [compact_money(v) for v in values],
        "textposition": "outside",
        "cliponaxis": False,
    }
    yaxis = _money(range=trend_range(values), title={"text": _("ARR (axis not from zero)")})
    return _html([trace], xaxis=MONTHLY, yaxis=yaxis, showlegend=False)


def arr_waterfall(frame: pd.DataFrame) -> str | None:
    """Per month: currency effect, new and expansion up, contraction and churn down (stacked), and the net change
    (labelled), one group per month label."""
    if frame.empty:
        return None
    months = _months(frame["month"])
    parts = [
        ("currency_effect", _("Currency effect"), "#8a939e", 1),
        ("new", _("New"), SERIES[2], 1),
        ("expansion", _("Expansion"), SERIES[4], 1),
        ("contraction", _("Contraction"), SERIES[1], -1),
        ("churn", _("Churn"), SERIES[3], -1),
    ]
    data = [
        {
            "type": "bar",
            "x": months,
            "y": [sign * v for v in _floats(frame[key])],
            "name": label,
            "marker": {"color": colour},
        }
        for key, label, colour, sign in parts
    ]
    net = _floats(frame["net"])
    data.append(
        {
            "type": "scatter",
            "x": months,
            "y": net,
            "name": _("Net change"),
            "mode": "lines+markers+text",
            "text": [compact_money(v) for v in net],
            "textposition": "top center",
            "line": {"color": "#1b1f24"},
        }
    )
    return _html(data, barmode="relative", xaxis=MONTHLY, yaxis=_money())


def ttm_waterfall(waterfall: Waterfall | None, *, start=None, end=None) -> str | None:
    """The trailing-twelve-month bridge: start (as reported) + currency effect + new + expansion − contraction −
    churn = end (as reported), each bar with its value; the start and end bars say their dates."""
    if waterfall is None:
        return None
    w = waterfall
    values = [
        float(w.start),
        float(w.currency_effect),
        float(w.new),
        float(w.expansion),
        -float(w.contraction),
        -float(w.churn),
        float(w.end),
    ]
    start_label = f"{_('Start')} {start:%Y-%m-%d}" if start else _("Start")
    end_label = f"{_('End')} {end:%Y-%m-%d}" if end else _("End")
    trace = {
        "type": "waterfall",
        "x": [start_label, _("Currency effect"), _("New"), _("Expansion"), _("Contraction"), _("Churn"), end_label],
        "y": values,
        "measure": ["absolute", "relative", "relative", "relative", "relative", "relative", "total"],
        "text": [compact_money(v) for v in values],
        "textposition": "outside",
        "cliponaxis": False,
        "increasing": {"marker": {"color": SERIES[2]}},
        "decreasing": {"marker": {"color": SERIES[3]}},
        "totals": {"marker": {"color": SERIES[0]}},
        "connector": {"line": {"color": "#8a939e"}},
    }
    running = [sum(values[: i + 1]) for i in range(len(values) - 1)] + [values[-1]]
    return _html([trace], yaxis=_money(range=trend_range(running)), hovermode="closest", showlegend=False)


def retention_trend(frame: pd.DataFrame) -> str | None:
    """NRR and GRR (trailing twelve months) and annual logo churn, as of each month's last snapshot."""
    if frame.empty or frame[["nrr", "grr", "logo_churn"]].isna().all().all():
        return None
    months = _months(frame["month"])
    series = [("nrr", _("NRR"), SERIES[0]), ("grr", _("GRR"), SERIES[2]), ("logo_churn", _("Logo churn"), SERIES[3])]
    data = [
        {
            "type": "scatter",
            "x": months,
            "y": _floats(frame[key]),
            "name": label,
            "mode": "lines+markers",
            "line": {"color": colour},
        }
        for key, label, colour in series
    ]
    return _html(data, xaxis=MONTHLY, yaxis={"tickformat": ".0%", "rangemode": "tozero"})


def band_distribution(frame: pd.DataFrame) -> str | None:
    """Accounts per health band at each date (stacked)."""
    if frame.empty:
        return None
    labels = {"red": _("Red"), "yellow": _("Yellow"), "green": _("Green"), "na": _("N/A")}
    data = [
        {
            "type": "bar",
            "x": _months(frame["as_of"]),
            "y": [int(n) for n in frame[band]],
            "name": label,
            "marker": {"color": BAND_COLOURS[band]},
        }
        for band, label in labels.items()
        if band in frame
    ]
    return _html(data, barmode="stack", xaxis=MONTHLY, yaxis={"title": {"text": _("Accounts")}})


def ingestion_volume(frame: pd.DataFrame) -> str | None:
    if frame.empty:
        return None
    trace = {
        "type": "bar",
        "x": list(frame["day"]),
        "y": [int(n) for n in frame["events"]],
        "name": _("Events"),
        "marker": {"color": SERIES[0]},
    }
    return _html([trace], height=240, yaxis={"title": {"text": _("Events")}, "tickformat": ",d"})
