"""Fixtures of the journeys tests: the default stages and settings (re-created when a transactional test flushed
the migration's rows), a CSM's account, and helpers for dates."""

import datetime as dt

import pytest

from journeys.models import JourneySettings
from tests.factories import StageFactory

DEFAULT_STAGES = ["Awareness", "Research", "Decision", "Purchase (onboarding)", "Adoption", "Advocacy"]


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


@pytest.fixture
def stages(db) -> dict:
    """The six default stages by name, and the settings row pointing at Adoption."""
    result = {name: StageFactory(name=name, order=order) for order, name in enumerate(DEFAULT_STAGES, start=1)}
    JourneySettings.objects.update_or_create(pk=1, defaults={"adoption_stage": result["Adoption"], "value_event": ""})
    return result
