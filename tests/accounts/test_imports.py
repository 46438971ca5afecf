"""Spreadsheet imports (accounts/imports/): values parsed as spreadsheets write them, a preview that lists every
bad row and writes nothing, an all-or-nothing idempotent apply, undo, the commands, round trips through export,
books whose figures after a night equal the same book entered through the API, and who may open the pages."""

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import Workbook
from rest_framework.test import APIClient

from accounts.imports import values
from accounts.imports.services import ImportRefused, import_apply, import_preview, import_undo
from accounts.models import Account, ChangedAccount, Contact, Contract, ExchangeRate, ImportMapping, ImportRun
from accounts.selectors import account_changes
from csm_platform.web.selectors.timeline import account_timeline
from health import pipeline
from health.models import AccountSnapshot
from tests.factories import AccountFactory
from tests.web.matrix import url_patterns

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2025, 3, 31)


def csv_file(header: list[str], rows: list[list]) -> io.BytesIO:
    lines = [",".join(header)] + [
        ",".join(f'"{cell}"' if "," in str(cell) else str(cell) for cell in row) for row in rows
    ]
    return io.BytesIO(("\n".join(lines) + "\n").encode())


def xlsx_file(header: list[str], rows: list[list]) -> io.BytesIO:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    stream = io.BytesIO()
    workbook.save(stream)
    stream.seek(0)
    return stream


def apply(kind: str, stream, name: str = "book.csv", **kwargs) -> ImportRun:
    stream.seek(0)
    return import_apply(kind=kind, file=stream, file_name=name, user_id=None, **kwargs)


def preview(kind: str, stream, name: str = "book.csv", **kwargs):
    stream.seek(0)
    return import_preview(kind=kind, file=stream, file_name=name, **kwargs)


# Values as spreadsheets write them -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("2024-12-31", dt.date(2024, 12, 31)),
        ("12/31/2024", dt.date(2024, 12, 31)),
        ("31.12.2024", dt.date(2024, 12, 31)),
        ("2024-12-31T00:00:00.000+0000", dt.date(2024, 12, 31)),
        (45657, dt.date(2024, 12, 31)),  # an Excel serial day number
        (dt.datetime(2024, 12, 31, 0, 0), dt.date(2024, 12, 31)),
    ],
)
def test_dates(cell, expected):
    assert values.parse_date(cell) == expected


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("$1,234.50", Decimal("1234.50")),
        ("1.234,50 €", Decimal("1234.50")),
        ("1 234,50", Decimal("1234.50")),
        ("USD 12,000", Decimal("12000")),
        ("1,234,567", Decimal("1234567")),
        ("1.0850", Decimal("1.0850")),
        ("1234,5", Decimal("1234.5")),
        (1200.5, Decimal("1200.5")),
    ],
)
def test_numbers(cell, expected):
    assert values.parse_decimal(cell) == expected


@pytest.mark.parametrize("cell", ["1,23,4", "1.2.34", "12abc", "1,234.5,6"])
def test_ambiguous_or_broken_numbers_are_refused(cell):
    with pytest.raises(ValueError):
        values.parse_decimal(cell)


@pytest.mark.parametrize(
    "cell, expected",
    [("TRUE", True), ("false", False), ("Yes", True), ("no", False), ("1", True), ("0", False), ("x", True)],
)
def test_booleans(cell, expected):
    assert values.parse_boolean(cell) is expected


# A book in Salesforce's shape, in a custom JSON mapping's, and through the API ------------------------------------

ACCOUNTS = [  # key, name, domain, parent
    ("001A", "Acme", "acme.example", ""),
    ("001B", "Acme Europe", "acme.example.eu", "001A"),
    ("001C", "Globex", "globex.example", ""),
]
CONTACTS = [("003A", "001A", "Ann", "Lee", "ann@acme.example", "CTO")]
CONTRACTS = [  # key, account, start, end, currency, recurring value, status
    ("800A", "001A", "2025-01-01", "2025-12-31", "USD", "120000", "Activated"),
    ("800B", "001B", "2024-07-01", "2027-06-30", "EUR", "300000", "Activated"),
    ("800C", "001C", "2024-01-10", "2024-04-30", "USD", "30000", "Expired"),
    ("800D", "001C", "2025-02-01", "2026-01-31", "USD", "48000", "Activated"),
]
RATES = [("EUR", "2025-01-01", "1.10")]


def salesforce_book(prefix: str) -> dict[str, io.BytesIO]:
    return {
        "exchange_rates": csv_file(["currency", "date", "rate"], [list(rate) for rate in RATES]),
        "accounts": csv_file(
            ["Id", "Name", "Website", "ParentId", "BillingCountry", "OwnerId"],
            [
                [prefix + key, name, domain, prefix + parent if parent else "", "France", "005xx"]
                for key, name, domain, parent in ACCOUNTS
            ],
        ),
        "contacts": csv_file(
            ["Id", "AccountId", "FirstName", "LastName", "Email", "Title"],
            [
                [prefix + key, prefix + account, first, last, email, title]
                for key, account, first, last, email, title in CONTACTS
            ],
        ),
        "contracts": csv_file(
            ["Id", "AccountId", "StartDate", "EndDate", "CurrencyIsoCode", "Amount", "Status", "ContractTerm"],
            [
                [prefix + key, prefix + account, start, end, currency, f"${int(value):,}.00", status, 12]
                for key, account, start, end, currency, value, status in CONTRACTS
            ],
        ),
    }


def custom_book(prefix: str, tmp_path) -> tuple[dict[str, io.BytesIO], dict[str, str]]:
    mappings = {
        "accounts": {
            "Customer no.": "external_id",
            "Customer": "name",
            "Web": "domain",
            "Group": "parent",
            "Notes": "",
        },
        "contracts": {
            "Ref": "external_id",
            "Customer no.": "account",
            "From": "start_date",
            "To": "end_date",
            "Cur": "currency",
            "Value": "recurring_tcv",
            "State": "status",
        },
    }
    paths = {}
    for kind, columns in mappings.items():
        path = tmp_path / f"{kind}.json"
        path.write_text(json.dumps(columns))
        paths[kind] = str(path)
    books = {
        "accounts": xlsx_file(
            ["Customer no.", "Customer", "Web", "Group", "Notes"],
            [
                [prefix + key, name, domain, prefix + parent if parent else None, "n/a"]
                for key, name, domain, parent in ACCOUNTS
            ],
        ),
        "contracts": xlsx_file(
            ["Ref", "Customer no.", "From", "To", "Cur", "Value", "State"],
            [
                [
                    prefix + key,
                    prefix + account,
                    dt.datetime.fromisoformat(start),  # a date cell
                    dt.date.fromisoformat(end).strftime("%d.%m.%Y"),  # a date typed as text, day first
                    currency,
                    float(value),
                    status,
                ]
                for key, account, start, end, currency, value, status in CONTRACTS
            ],
        ),
    }
    return books, paths


def api_book(prefix: str, admin) -> None:
    client = APIClient()
    client.force_authenticate(admin)
    ids = {}
    for key, name, domain, parent in ACCOUNTS:
        body = {"external_id": prefix + key, "name": name, "domain": domain, "region": "France"}
        if parent:
            body["parent"] = ids[parent]
        response = client.post("/api/accounts/", body, format="json")
        assert response.status_code == 201, response.content
        ids[key] = response.json()["id"]
    statuses = {"Activated": "active", "Expired": "ended"}
    for key, account, start, end, currency, value, status in CONTRACTS:
        body = {
            "external_id": prefix + key,
            "account": ids[account],
            "start_date": start,
            "end_date": end,
            "currency": currency,
            "recurring_tcv": value,
            "status": statuses[status],
        }
        response = client.post("/api/contracts/", body, format="json")
        assert response.status_code == 201, response.content


def acvs(prefix: str) -> dict[str, Decimal | None]:
    rows = AccountSnapshot.objects.filter(as_of=AS_OF, account__external_id__startswith=prefix)
    return {
        external_id.removeprefix(prefix): acv for external_id, acv in rows.values_list("account__external_id", "acv")
    }


def test_books_imported_in_salesforce_shape_and_with_a_json_mapping_equal_the_api_book(ada, tmp_path):
    for kind, stream in salesforce_book("SF-").items():
        run = apply(kind, stream, mapping="salesforce" if kind != "exchange_rates" else None)
        assert run.status == ImportRun.Status.APPLIED
    books, mappings = custom_book("JS-", tmp_path)
    for kind, stream in books.items():
        apply(kind, stream, name="book.xlsx", mapping=mappings[kind])
    api_book("API-", ada)

    pipeline.recompute(as_of=AS_OF)

    expected = acvs("API-")
    assert expected["001A"] == Decimal("120000.00") and expected["001B"] == Decimal("110000.00")
    assert acvs("SF-") == expected
    assert acvs("JS-") == expected
    assert Account.objects.get(external_id="SF-001B").parent.external_id == "SF-001A"
    contact = Contact.objects.get(external_id="SF-003A")
    assert (contact.name, contact.account.external_id, contact.title) == ("Ann Lee", "SF-001A", "CTO")
    assert Contract.objects.get(external_id="SF-800C").status == Contract.Status.ENDED


# Bad rows, all or nothing, idempotence --------------------------------------------------------------------------

CONTRACT_HEADER = [
    "external_id",
    "account",
    "start_date",
    "end_date",
    "currency",
    "recurring_tcv",
    "seats",
    "auto_renew",
]


def thousand_contracts(bad: bool) -> io.BytesIO:
    rows = [
        [f"CT-{n:04d}", f"ACC-{n % 10}", "2025-01-01", "2025-12-31", "USD", "1,200.00", n % 50, "no"]
        for n in range(1000)
    ]
    if bad:
        rows[10][3] = "2025-01-20"  # 20 days
        rows[500][1] = "ACC-404"
        rows[999][2] = "31/31/2025"
    return csv_file(CONTRACT_HEADER, rows)


@pytest.fixture
def ten_accounts(db):
    return [AccountFactory(external_id=f"ACC-{n}") for n in range(10)]


def test_three_bad_rows_among_a_thousand_are_listed_and_apply_changes_nothing(ten_accounts):
    plan = preview("contracts", thousand_contracts(bad=True))

    assert [(e.line, e.column, e.value) for e in plan.errors] == [
        (12, "end_date", "2025-01-20"),
        (502, "account", "ACC-404"),
        (1001, "start_date", "31/31/2025"),
    ]
    assert "at least 28 days" in plan.errors[0].reason and "covers 20" in plan.errors[0].reason
    assert "no account with this external id" in plan.errors[1].reason
    assert "not a date" in plan.errors[2].reason
    with pytest.raises(ImportRefused) as refused:
        apply("contracts", thousand_contracts(bad=True))
    assert len(refused.value.errors) == 3
    assert Contract.objects.count() == 0 and ImportRun.objects.count() == 0


def test_reimporting_the_same_file_changes_nothing(ten_accounts):
    first = apply("contracts", thousand_contracts(bad=False))
    second = apply("contracts", thousand_contracts(bad=False))

    assert (first.created, first.updated, first.unchanged) == (1000, 0, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 1000)
    assert Contract.objects.count() == 1000
    assert set(ChangedAccount.objects.values_list("account_id", flat=True)) == {a.pk for a in ten_accounts}


def test_an_update_changes_only_mapped_fields_and_undo_restores_them(ten_accounts):
    apply("contracts", thousand_contracts(bad=False))
    Contract.objects.filter(external_id="CT-0001").update(kind=Contract.Kind.RENEWAL)
    changed = csv_file(
        ["external_id", "account", "recurring_tcv"], [["CT-0001", "ACC-1", "2400"], ["CT-9999", "ACC-1", "10"]]
    )
    with pytest.raises(ImportRefused) as refused:  # a new contract needs its dates
        apply("contracts", changed)
    assert {e.column for e in refused.value.errors} == {"start_date", "end_date"}

    changed = csv_file(["external_id", "account", "recurring_tcv"], [["CT-0001", "ACC-1", "2400"]])
    run = apply("contracts", changed)
    contract = Contract.objects.get(external_id="CT-0001")
    assert (run.updated, contract.recurring_tcv, contract.kind) == (1, Decimal("2400"), Contract.Kind.RENEWAL)

    import_undo(run_id=run.pk)
    contract.refresh_from_db()
    assert contract.recurring_tcv == Decimal("1200.00")
    assert ImportRun.objects.get(pk=run.pk).status == ImportRun.Status.UNDONE


def test_undo_deletes_what_the_latest_import_created_unless_something_newer_depends_on_it(ten_accounts):
    accounts = apply("accounts", csv_file(["external_id", "name"], [["NEW-1", "New one"], ["ACC-0", "Renamed"]]))
    contracts = apply(
        "contracts",
        csv_file(CONTRACT_HEADER, [["CT-1", "NEW-1", "2025-01-01", "2025-12-31", "USD", "100", "", "x"]]),
    )
    with pytest.raises(ImportRefused) as refused:
        import_undo(run_id=accounts.pk)
    assert "newer import of Contracts" in str(refused.value)

    import_undo(run_id=contracts.pk)
    import_undo(run_id=accounts.pk)
    assert not Account.objects.filter(external_id="NEW-1").exists()
    assert Account.objects.get(external_id="ACC-0").name != "Renamed"
    assert Contract.objects.count() == 0


CHANGED = "Recurring value (whole term): 1200.00 → 2400.00"
UNDONE = "Recurring value (whole term): 2400.00 → 1200.00"


def test_an_import_and_its_undo_are_in_the_audit_trail_and_on_the_accounts_timeline(ten_accounts, ada):
    rows = [["CT-1", "ACC-1", "2025-01-01", "2025-12-31", "USD", "1200", "5", "no"]]
    import_apply(kind="contracts", file=csv_file(CONTRACT_HEADER, rows), file_name="q1.csv", user_id=ada.pk)
    rows[0][5] = "2400"
    run = import_apply(kind="contracts", file=csv_file(CONTRACT_HEADER, rows), file_name="q2.csv", user_id=ada.pk)
    contract = Contract.objects.get(external_id="CT-1")

    entries = account_changes(account_id=contract.account_id).filter(content_type__model="contract")
    created, updated = entries.get(action=LogEntry.Action.CREATE), entries.get(action=LogEntry.Action.UPDATE)
    assert (created.actor, created.object_id, created.additional_data["import_file"]) == (ada, contract.pk, "q1.csv")
    assert created.changes_dict["recurring_tcv"] == ["None", "1200.00"]
    assert (updated.actor, updated.additional_data["import_id"]) == (ada, run.pk)
    assert updated.changes_dict == {"recurring_tcv": ["1200.00", "2400.00"]}

    with set_actor(ada):  # as auditlog's middleware does for a request
        import_undo(run_id=run.pk)
    undone = account_changes(account_id=contract.account_id).first()
    assert (undone.actor, undone.changes_dict) == (ada, {"recurring_tcv": ["2400.00", "1200.00"]})
    assert undone.additional_data["import_undo"] is True

    items = account_timeline(account_id=contract.account_id).items
    assert [(item.subject, item.body) for item in items[:3]] == [
        ("Contract CT-1 (2025-01-01..2025-12-31) changed", "Undo of the import of q2.csv; " + UNDONE),
        ("Contract CT-1 (2025-01-01..2025-12-31) changed", "Imported from q2.csv; " + CHANGED),
        ("Contract CT-1 (2025-01-01..2025-12-31) added", "Imported from q1.csv"),
    ]
    assert [(item.subject, item.body) for item in items[3:]] == [("Account created", "")]  # the factory's


def test_rows_imported_in_a_request_read_their_importer_once_whatever_their_number(ten_accounts, ada):
    def user_reads(file, name: str) -> int:
        with set_actor(ada), CaptureQueriesContext(connection) as queries:  # as in a browser import
            import_apply(kind="contracts", file=file, file_name=name, user_id=ada.pk)
        return sum('FROM "accounts_user"' in query["sql"] for query in queries.captured_queries)

    one = user_reads(
        csv_file(CONTRACT_HEADER, [["CT-X", "ACC-1", "2025-01-01", "2025-12-31", "USD", "9", "", ""]]), "one.csv"
    )
    thousand = user_reads(thousand_contracts(bad=False), "big.csv")

    assert thousand == one
    entries = LogEntry.objects.filter(additional_data__import_file="big.csv")
    assert entries.count() == 1000
    assert set(entries.values_list("actor", "actor_email").distinct()) == {(ada.pk, ada.email)}


def test_an_import_of_rows_auditlog_does_not_track_writes_no_entries(ten_accounts):
    header = ["account", "kind", "occurred_at", "subject"]
    before = LogEntry.objects.count()
    run = apply("activities", csv_file(header, [["ACC-1", "call", "2025-01-05T10:00:00Z", "Kick-off"]]))

    assert run.created == 1 and LogEntry.objects.count() == before


def test_a_parent_cycle_and_a_short_contract_are_refused_with_the_services_words(ten_accounts):
    plan = preview("accounts", csv_file(["external_id", "name", "parent"], [["X1", "X1", "X2"], ["X2", "X2", "X1"]]))
    assert {e.reason for e in plan.errors} == {"An account cannot be its own parent or ancestor."}


# Round trip and the commands ------------------------------------------------------------------------------------


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_export_then_import_into_an_empty_book_gives_identical_numbers(ten_accounts, tmp_path, extension):
    apply("accounts", csv_file(["external_id", "name", "parent", "segment"], [["ACC-1", "One", "ACC-0", "High-touch"]]))
    apply(
        "contacts",
        csv_file(["account", "name", "email", "roles"], [["ACC-1", "Bo", "bo@x.example", "champion; billing"]]),
    )
    apply("contracts", thousand_contracts(bad=False))
    ExchangeRate.objects.create(currency="EUR", date=AS_OF, rate=Decimal("1.1"))
    pipeline.recompute(as_of=AS_OF)
    before = acvs("ACC-")
    kinds = ["exchange_rates", "accounts", "contacts", "contracts"]
    files = {kind: tmp_path / f"{kind}.{extension}" for kind in kinds}
    for kind in kinds:
        call_command("export_book", kind, str(files[kind]), stdout=io.StringIO())

    Contract.objects.all().delete()
    Account.objects.all().delete()
    ExchangeRate.objects.all().delete()
    for kind in kinds:
        out = io.StringIO()
        call_command("import_book", kind, str(files[kind]), stdout=out)
        assert out.getvalue().startswith("created ") and "updated 0, unchanged 0" in out.getvalue()
    pipeline.recompute(as_of=AS_OF)

    assert acvs("ACC-") == before
    assert Contract.objects.count() == 1000
    contact = Contact.objects.get()
    assert contact.is_champion and contact.is_billing and not contact.is_end_user
    assert Account.objects.get(external_id="ACC-1").parent.external_id == "ACC-0"
    for kind in kinds:
        again = io.StringIO()
        call_command("import_book", kind, str(files[kind]), stdout=again)
        assert again.getvalue().startswith("created 0, updated 0, unchanged ")


def test_import_book_exits_1_with_the_row_errors_and_changes_nothing(ten_accounts, tmp_path):
    path = tmp_path / "contracts.csv"
    path.write_bytes(thousand_contracts(bad=True).getvalue())
    err = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("import_book", "contracts", str(path), stderr=err)
    assert failed.value.returncode == 1
    assert "line 12, column end_date ('2025-01-20'): A contract must cover at least 28 days" in err.getvalue()
    assert Contract.objects.count() == 0

    path.write_bytes(thousand_contracts(bad=False).getvalue())
    out = io.StringIO()
    call_command("import_book", "contracts", str(path), "--dry-run", stdout=out)
    assert out.getvalue().startswith("created 1000, updated 0, unchanged 0 (dry run")
    assert Contract.objects.count() == 0
    call_command("import_book", "contracts", str(path), stdout=out)
    assert Contract.objects.count() == 1000


# Pages ----------------------------------------------------------------------------------------------------------


def test_only_admins_and_managers_reach_the_import_pages(client, alice, bob, mallory, andy, edna, ada):
    names = [name for name, kwargs in url_patterns({"imports"}) if not kwargs]
    assert names
    for name in names:
        client.logout()
        response = client.get(reverse(name))
        assert response.status_code == 302 and response.url.startswith("/auth/login/"), name
        for user in (alice, bob, andy, edna):
            client.force_login(user)
            assert client.get(reverse(name)).status_code == 403, (name, user)
    for user in (mallory, ada):
        client.force_login(user)
        assert client.get(reverse("imports:start")).status_code == 200


def test_a_manager_uploads_maps_previews_applies_and_undoes(client, mallory):
    client.force_login(mallory)
    book = salesforce_book("SF-")["accounts"]
    book.name = "Account.csv"
    response = client.post(reverse("imports:start"), {"kind": "accounts", "file": book})
    run = ImportRun.objects.get(status=ImportRun.Status.PENDING)
    assert response.url == reverse("imports:run", args=[run.pk])

    page = client.get(reverse("imports:run", args=[run.pk]), {"mapping": "salesforce"})
    assert page.context["form"]["column_0"].initial == "external_id"  # Id
    columns = {f"column_{n}": page.context["form"][f"column_{n}"].initial for n in range(6)}
    columns["column_4"] = ""  # BillingCountry ignored
    preview_page = client.post(reverse("imports:run", args=[run.pk]), {**columns, "save_as": "SF accounts"})
    assert "3 rows: 3 to create, 0 to update, 0 unchanged." in preview_page.content.decode()
    assert Account.objects.count() == 0

    applied = client.post(reverse("imports:run", args=[run.pk]), {**columns, "apply": "1"})
    assert applied.url == reverse("imports:start")
    assert Account.objects.filter(external_id__startswith="SF-", region="").count() == 3
    history = client.get(reverse("imports:start")).content.decode()
    assert "Account.csv" in history and "Undo" in history

    client.post(reverse("imports:undo", args=[run.pk]))
    assert Account.objects.count() == 0
    accounts = LogEntry.objects.filter(content_type__model="account")
    created = accounts.filter(action=LogEntry.Action.CREATE, additional_data__import_file="Account.csv")
    deleted = accounts.filter(action=LogEntry.Action.DELETE)
    assert (created.count(), deleted.count()) == (3, 3)
    assert {entry.actor for entry in [*created, *deleted]} == {mallory}
    assert ImportMapping.objects.get(name="SF accounts").columns["BillingCountry"] == ""
