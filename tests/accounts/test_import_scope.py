"""A CS manager's import follows the scope of every other write: rows of their team's accounts only, owners within
their team, no exchange rates. Admins and the command line import anything."""

import io

import pytest

from accounts.imports.services import import_preview
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def preview(kind: str, text: str, user):
    return import_preview(kind=kind, file=io.BytesIO(text.encode()), file_name=f"{kind}.csv", user=user)


def reasons(plan) -> list[tuple[int, str, str]]:
    return [(error.line, error.column, error.reason) for error in plan.errors]


def test_a_manager_changes_contracts_of_their_teams_accounts_only(mallory, alice, bob, ada):
    AccountFactory(owner=alice, external_id="CRM-OURS")
    AccountFactory(owner=bob, external_id="CRM-THEIRS")
    text = (
        "external_id,account,start_date,end_date,currency,recurring_tcv\n"
        "CT-1,CRM-OURS,2024-01-01,2024-12-31,USD,1000\n"
        "CT-2,CRM-THEIRS,2024-01-01,2024-12-31,USD,1000\n"
    )

    plan = preview("contracts", text, mallory)

    assert [(line, column) for line, column, _reason in reasons(plan)] == [(3, "account")]
    assert "not yours or your team's" in plan.errors[0].reason
    assert preview("contracts", text, ada).errors == []  # an admin imports the whole book
    assert preview("contracts", text, None).errors == []  # and so does the command line


def test_a_manager_assigns_owners_within_their_team_only(mallory, alice, bob):
    AccountFactory(owner=alice, external_id="CRM-OURS", name="Ours")
    text = "external_id,name,owner\nCRM-OURS,Ours,bob\nCRM-NEW,New,alice\nCRM-NEW2,New 2,bob\n"

    plan = preview("accounts", text, mallory)

    assert [(line, column) for line, column, _reason in reasons(plan)] == [(2, "owner"), (4, "owner")]
    assert "own team" in plan.errors[0].reason


def test_exchange_rates_are_an_admins_import(mallory, ada):
    text = "currency,date,rate\nEUR,2024-01-01,1.08\n"
    assert "Only an admin" in preview("exchange_rates", text, mallory).errors[0].reason
    assert preview("exchange_rates", text, ada).errors == []
