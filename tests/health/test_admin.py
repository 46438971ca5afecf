"""The scorecard admin refuses what publishing a version cannot take."""

import pytest
from django.urls import reverse

from health.models import Scorecard, ScorecardMeasure

pytestmark = pytest.mark.django_db


def test_deleting_the_last_measure_is_a_form_error_not_a_failure(client, ada):
    scorecard = Scorecard.objects.create(name="Only one", segment="tech_touch")
    measure = ScorecardMeasure.objects.create(scorecard=scorecard, measure="stickiness", weight=1, bad=0, good=10)
    client.force_login(ada)
    data = {
        "name": scorecard.name,
        "segment": scorecard.segment,
        "red_below": "40",
        "green_from": "70",
        "measures-TOTAL_FORMS": "1",
        "measures-INITIAL_FORMS": "1",
        "measures-MIN_NUM_FORMS": "1",
        "measures-MAX_NUM_FORMS": "1000",
        "measures-0-id": str(measure.pk),
        "measures-0-scorecard": str(scorecard.pk),
        "measures-0-measure": "stickiness",
        "measures-0-weight": "1",
        "measures-0-bad": "0",
        "measures-0-good": "10",
        "measures-0-DELETE": "on",
    }

    response = client.post(reverse("admin:health_scorecard_change", args=[scorecard.pk]), data)

    assert response.status_code == 200
    assert "Please submit at least 1 form" in response.content.decode()
    assert ScorecardMeasure.objects.filter(pk=measure.pk).exists()
