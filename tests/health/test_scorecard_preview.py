"""The scorecard what-if runs off the request path: the admin queues it, its page shows progress then the result,
the same what-if is reused, and a newer published version makes it stale."""

import datetime as dt

import pytest
from django.urls import reverse

from health.models import Scorecard, ScorecardPreview
from health.services import scorecard_preview_request, scorecard_publish
from tests.factories import AccountFactory, ContractFactory

pytestmark = pytest.mark.django_db


def change_form_data(client, scorecard: Scorecard, **weights) -> dict:
    """The scorecard's change form as the admin renders it, with some measure weights changed."""
    page = client.get(reverse("admin:health_scorecard_change", args=[scorecard.pk]))
    form = page.context["adminform"].form
    data = {name: form.initial.get(name, "") for name in ("name", "segment", "red_below", "green_from")}
    data["segment"] = data["segment"] or ""
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        data.update({management.add_prefix(name): value for name, value in management.initial.items()})
        for inline_form in formset.formset.forms:
            data[inline_form.add_prefix("id")] = inline_form.instance.pk
            for name in ("scorecard", "measure", "weight", "bad", "good"):
                value = inline_form.initial.get(name, "")
                if name == "weight" and inline_form.initial.get("measure") in weights:
                    value = weights[inline_form.initial["measure"]]
                data[inline_form.add_prefix(name)] = value if value is not None else ""
    return data


@pytest.fixture
def book():
    for n in range(3):
        ContractFactory(account=AccountFactory(name=f"Customer {n}"), seats=10 + n)


def test_a_preview_is_queued_shows_its_result_and_is_reused(client, ada, book, django_capture_on_commit_callbacks):
    scorecard = Scorecard.objects.get(segment="")
    client.force_login(ada)
    data = {**change_form_data(client, scorecard, license_utilization=60), "_preview": "Preview"}

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:health_scorecard_change", args=[scorecard.pk]), data)

    preview = ScorecardPreview.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:health_scorecard_preview", args=[preview.pk])
    assert (preview.status, preview.done, preview.total) == ("done", 3, 3)
    assert {row["name"] for row in preview.rows} == {"Customer 0", "Customer 1", "Customer 2"}
    assert [m["weight"] for m in preview.definition["measures"] if m["key"] == "license_utilization"] == [60.0]
    page = client.get(response["Location"]).content.decode()
    assert "Customer 0" in page and "hx-trigger" not in page  # done: nothing left to poll
    assert scorecard.versions.count() == 1  # nothing was published

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:health_scorecard_change", args=[scorecard.pk]), data)
    assert ScorecardPreview.objects.count() == 1  # the same what-if, answered again

    scorecard_publish(scorecard_id=scorecard.pk)
    preview.refresh_from_db()
    assert preview.stale
    assert "out of date" in client.get(response["Location"]).content.decode()


def test_a_pending_preview_page_polls_its_progress(client, ada, book):
    scorecard = Scorecard.objects.get(segment="")
    definition = scorecard.versions.get().definition
    preview = scorecard_preview_request(
        scorecard_id=scorecard.pk, segment="", definition=definition, as_of=dt.date(2024, 6, 30), user_id=ada.pk
    )
    client.force_login(ada)

    fragment = client.get(reverse("admin:health_scorecard_preview_progress", args=[preview.pk])).content.decode()

    assert 'hx-trigger="every 1s"' in fragment
    assert "Waiting to start" in fragment


def test_only_admins_see_previews(client, alice, ada, book):
    scorecard = Scorecard.objects.get(segment="")
    preview = scorecard_preview_request(
        scorecard_id=scorecard.pk,
        segment="",
        definition=scorecard.versions.get().definition,
        as_of=dt.date(2024, 6, 30),
        user_id=ada.pk,
    )
    client.force_login(alice)
    response = client.get(reverse("admin:health_scorecard_preview", args=[preview.pk]))
    assert response.status_code in {302, 403}
