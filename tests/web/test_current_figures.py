"""Current figures on the pages (docs/concepts/point-in-time.md, "Current figures during the day"): an account
re-scored during the day after a change shows "Now, as of 10:42" on its page and its new health beside the night's
on the portfolio; the night's figures stay, a past night shows none, and a newer night supersedes them."""

import datetime as dt
import re

import pytest
import time_machine

from accounts.models import Activity
from accounts.services import activity_create
from health import pipeline
from health.models import AccountCurrent, AccountSnapshot
from health.pipeline import recompute
from tests.web.conftest import AS_OF, NOW
from tests.web.test_account import account  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

LATER = NOW + dt.timedelta(hours=1, minutes=42)  # 10:42 UTC on the day after the night


@pytest.fixture
def refreshed(account, alice):  # noqa: F811 (fixture)
    """The account scored on the nights up to AS_OF, then a QBR logged and the intra-day refresh run at 10:42."""
    with time_machine.travel(LATER, tick=False):
        activity_create(
            account_id=account.pk, author_id=alice.pk, kind=Activity.Kind.QBR, subject="QBR", occurred_at=LATER
        )
        assert [pk for pk, _ in pipeline.current_figures_refresh()] == [account.pk]
    return AccountCurrent.objects.get(account=account)


def test_the_account_page_shows_the_current_figures_with_their_time_above_the_nights(client, edna, refreshed):
    night = AccountSnapshot.objects.get(account=refreshed.account, as_of=AS_OF)
    client.force_login(edna)
    with time_machine.travel(LATER + dt.timedelta(minutes=5), tick=False):
        page = client.get(f"/accounts/{refreshed.account_id}/").content.decode()
        past = client.get(f"/accounts/{refreshed.account_id}/?as_of={AS_OF - dt.timedelta(days=7)}").content.decode()

    assert refreshed.as_of == AS_OF + dt.timedelta(days=1)
    current = page[page.index('id="current-figures"') : page.index("</section>", page.index('id="current-figures"'))]
    assert "Now, as of 10:42" in current
    assert f"band-{refreshed.band}" in current and f">{refreshed.health:.0f}<" in current
    assert "night of" in current  # the figures below are labelled as the night's
    assert f">{night.health:.0f}<" in page[page.index("</section>") :]  # the night's score stays on the page
    assert 'id="current-figures"' not in past


def test_a_newer_night_supersedes_the_current_figures(client, edna, refreshed):
    with time_machine.travel(LATER + dt.timedelta(hours=17), tick=False):  # the next night, at 02:00
        recompute(as_of=refreshed.as_of)
        client.force_login(edna)
        page = client.get(f"/accounts/{refreshed.account_id}/").content.decode()

    assert 'id="current-figures"' not in page


def test_the_portfolio_shows_a_changed_health_beside_the_nights_and_nothing_when_unchanged(client, edna, refreshed):
    night = AccountSnapshot.objects.get(account=refreshed.account, as_of=AS_OF)
    client.force_login(edna)
    AccountCurrent.objects.filter(pk=refreshed.pk).update(health=night.health, band=night.band)
    with time_machine.travel(LATER, tick=False):
        unchanged = client.get("/portfolio/?owner=").content.decode()
    moved = 20 if night.health < 80 else -20
    AccountCurrent.objects.filter(pk=refreshed.pk).update(health=night.health + moved)
    with time_machine.travel(LATER, tick=False):
        changed = client.get("/portfolio/?owner=").content.decode()

    assert 'class="now"' not in unchanged
    now = re.search(
        r'<span class="now" title="[^"]*">now (<span class="band band-(\w+)"[^>]*>(\d+)</span>) · ([\d:]+)', changed
    )
    assert now.group(3, 4) == (f"{night.health + moved:.0f}", "10:42")
