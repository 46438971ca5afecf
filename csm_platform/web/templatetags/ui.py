"""Template filters for the one formatting of money, numbers, percentages, dates, health and risk."""

from django import template

from .. import formatting as fmt

register = template.Library()

register.filter("money", fmt.money)
register.filter("money_full", fmt.money_full)
register.filter("money_short", fmt.money_short)
register.filter("num", fmt.number)
register.filter("signed", fmt.signed)
register.filter("pct", fmt.percent)
register.filter("shortdate", fmt.date)
register.filter("shortdatetime", fmt.datetime)
register.filter("renewal_state", fmt.renewal_state)


@register.simple_tag
def money_or_reason(value, reason=""):
    return fmt.money_or_reason(value, reason)


@register.simple_tag
def excludes(what, exclusions):
    return fmt.excludes(what, exclusions)


@register.simple_tag
def health_badge(health, band):
    return fmt.health_badge(health, band)


@register.simple_tag
def health_change(change, days):
    return fmt.health_change(change, days)


@register.simple_tag
def risk_badge(probability, band):
    return fmt.risk_badge(probability, band)
