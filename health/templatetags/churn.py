"""``{% load churn %}``: which churn model scored a night, for the pages that show churn risk."""

import datetime as dt

from django import template

from health.models import ChurnModelVersion
from health.services import latest_churn_model

register = template.Library()


@register.simple_tag
def churn_model_of_night(as_of: dt.date | None = None) -> ChurnModelVersion | None:
    """The model that scored the night ``as_of`` (the latest trained on or before it); without a date, the latest
    model. None when no model was trained: the risk then comes from the health fallback too."""
    if not as_of:
        return ChurnModelVersion.objects.defer("model").order_by("-as_of", "-trained_at").first()
    return latest_churn_model(as_of=as_of)
