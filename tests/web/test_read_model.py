"""The portfolio's stored rows (``AccountRow``): built by the night and by the intra-day refresh from the same
annotations the page reads live, equal to them, read by the page, the API and the export in a number of queries
that does not grow with the accounts, and updated when an account's contract, owner or touches change."""

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import Account, Activity
from accounts.services import activity_create, contract_create
from csm_platform.web.models import AccountRow
from csm_platform.web.selectors.portfolio import ROW_FIELDS, annotated, portfolio_list
from csm_platform.web.services import account_rows_refresh
from health import pipeline
from tests.web.conftest import AS_OF, NOW, TODAY, book, open_task, stage_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def live(user) -> dict[int, dict]:
    accounts = annotated(Account.objects.visible_to(user), as_of=AS_OF, today=TODAY)
    return {row["pk"]: row for row in accounts.values("pk", *ROW_FIELDS)}


def stored(user) -> dict[int, dict]:
    accounts = portfolio_list(user=user, as_of=AS_OF, today=TODAY)
    return {row["pk"]: row for row in accounts.values("pk", *ROW_FIELDS)}


def test_the_rows_are_the_snapshot_figures_and_the_calendar_of_today(edna, alice):
    accounts = book(n=6, owner=alice)
    stage_of(accounts[:2], "Adoption")
    open_task(accounts[0], alice, due=TODAY)
    activity_create(
        account_id=accounts[1].pk,
        kind=Activity.Kind.CALL,
        author_id=alice.pk,
        occurred_at=NOW - dt.timedelta(days=3),
        subject="Check-in",
    )
    assert account_rows_refresh(today=TODAY) == 6
    assert set(AccountRow.objects.values_list("as_of", "built_on")) == {(AS_OF, TODAY)}
    rows, expected = stored(edna), live(edna)
    assert rows == expected
    assert rows[accounts[0].pk]["open_tasks"] == 1 and rows[accounts[1].pk]["last_touch"] is not None
    assert rows[accounts[0].pk]["stage_name"] == "Adoption" and rows[accounts[0].pk]["acv"] == Decimal("12000.00")
    assert "web_accountrow" in str(portfolio_list(user=edna, as_of=AS_OF, today=TODAY).query)


def test_without_rows_for_the_night_and_today_the_page_reads_live(edna, alice):
    book(n=2, owner=alice)
    account_rows_refresh(today=TODAY - dt.timedelta(days=1))
    assert "web_accountrow" not in str(portfolio_list(user=edna, as_of=AS_OF, today=TODAY).query)
    account_rows_refresh(today=TODAY)
    assert "web_accountrow" not in str(
        portfolio_list(user=edna, as_of=AS_OF - dt.timedelta(days=30), today=TODAY).query
    )


def test_rows_of_a_few_refreshed_accounts_do_not_stand_for_a_book_built_the_day_before(edna, alice):
    accounts = book(n=3, owner=alice)
    account_rows_refresh(today=TODAY - dt.timedelta(days=1))
    account_rows_refresh(account_ids=[accounts[0].pk], today=TODAY)  # the intra-day refresh of one account

    assert "web_accountrow" not in str(portfolio_list(user=edna, as_of=AS_OF, today=TODAY).query)
    account_rows_refresh(today=TODAY)
    assert "web_accountrow" in str(portfolio_list(user=edna, as_of=AS_OF, today=TODAY).query)


def test_a_contract_and_a_touch_update_the_row_after_the_refresh_and_an_owner_at_once(client, edna, alice, bob):
    (account,) = book(n=1, owner=alice)
    account_rows_refresh(today=TODAY)
    renewal = account.contracts.get().end_date
    contract_create(
        data={
            "account": account,
            "external_id": "CT-SOONER",
            "start_date": dt.date(2024, 1, 1),
            "end_date": dt.date(2024, 7, 10),
            "recurring_tcv": Decimal("6000"),
        }
    )
    activity_create(
        account_id=account.pk, kind=Activity.Kind.MEETING, author_id=alice.pk, occurred_at=NOW, subject="QBR"
    )
    assert stored(edna)[account.pk]["next_renewal"] == renewal  # not yet refreshed
    refreshed = pipeline.current_figures_refresh()
    assert [a for a, _ in refreshed] == [account.pk]
    row = stored(edna)[account.pk]
    assert (row["next_renewal"], row["last_touch"]) == (dt.date(2024, 7, 10), NOW)
    assert row == live(edna)[account.pk]
    account.owner = bob
    account.save(update_fields=["owner"])
    client.force_login(edna)
    response = client.get("/portfolio/?owner=")
    (shown,) = [r.record for r in response.context["table"].page.object_list]
    assert shown.owner == bob  # the owner is the account's own field, never a stale copy


@pytest.mark.parametrize("accounts", [10, 200])
def test_the_page_from_rows_does_not_grow_with_accounts(client, alice, accounts, django_assert_num_queries):
    book(n=accounts, owner=alice)
    account_rows_refresh(today=TODAY)
    client.force_login(alice)
    # Session, user, roles (landing), latest snapshot date, rows built for it, figures (aggregate, scores, accounts
    # with ACV N/A), paginator count, page rows, filter choices (CSM, team, AE, stage), saved views, nav roles, the
    # night's churn model.
    with django_assert_num_queries(17):
        response = client.get(f"/portfolio/?owner={alice.pk}&sort=-health&band=red")
    assert len(response.context["table"].page.object_list) == min(-(-accounts // 3), 50)
