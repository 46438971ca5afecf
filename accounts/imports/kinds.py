"""What can be imported: per kind, its fields, how a row finds the object it is about (its key), how references
are looked up (one query per referenced model for the whole file, never one per row), and how a row becomes a
model instance that the write path's own rules then check.

A row is keyed by external id (contacts without one by account and e-mail; exchange rates by currency and date;
activities by account, kind, moment and subject), so importing the same file again finds every row unchanged.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model, Q
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from csm_platform.validation import moment_checked, text_checked

from ..models import Account, Activity, Contact, Contract, ExchangeRate, ImportKind, User
from ..services import _account_errors, _contact_errors, _contract_errors
from . import values

ROLE_FLAGS = {
    "champion": "is_champion",
    "executive sponsor": "is_executive_sponsor",
    "decision maker": "is_decision_maker",
    "billing": "is_billing",
    "end user": "is_end_user",
}
# What CRM exports write for our choices, beside each choice's own value and label (compared in lower case).
CHOICE_ALIASES = {
    (Contract, "status"): {
        "activated": "active",  # Salesforce Contract.Status
        "expired": "ended",
        "terminated": "cancelled",
        "canceled": "cancelled",
    },
    (Contract, "kind"): {
        "new business": "new",  # Salesforce Opportunity.Type, HubSpot "Deal Type"
        "newbusiness": "new",
        "existing business": "renewal",
        "existingbusiness": "renewal",
        "upsell": "expansion",
        "downsell": "contraction",
    },
    (Activity, "kind"): {"task": "note", "list email": "email", "meeting request": "meeting"},
    (Account, "status"): {"customer": "active", "former customer": "churned"},
}


class RowError(Exception):
    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class Field:
    name: str
    parse: Callable[[Any], Any]
    help: str = ""


@dataclass
class Row:
    """One data row: its spreadsheet row number and its parsed values by field (None: an empty cell)."""

    line: int
    values: dict[str, Any]


@dataclass
class Lookups:
    """The objects rows refer to, fetched once for the whole file."""

    users: dict[str, int | None] = field(default_factory=dict)  # lower-case username or e-mail → id (None: ambiguous)
    accounts: dict[str, int] = field(default_factory=dict)  # external id → id
    contracts: dict[str, Contract] = field(default_factory=dict)  # external id → (id, account_id) stand-ins
    contacts: dict[str, int] = field(default_factory=dict)


def _text(model: type[Model], name: str) -> Callable[[Any], str]:
    max_length = model._meta.get_field(name).max_length

    def parse(cell) -> str:
        try:
            return text_checked(values.parse_text(cell), max_length=max_length)
        except ValidationError as error:
            raise ValueError(error.messages[0]) from None

    return parse


def _choice(model: type[Model], name: str) -> Callable[[Any], str]:
    choices = model._meta.get_field(name).choices
    known = {str(value).lower(): value for value, _label in choices}
    known |= {str(label).lower(): value for value, label in choices}
    known |= {str(label).lower().replace("-", " "): value for value, label in choices}
    known |= CHOICE_ALIASES.get((model, name), {})
    allowed = ", ".join(value for value, _label in choices)

    def parse(cell) -> str:
        text = values.parse_text(cell).lower()
        if text not in known:
            raise ValueError(_("not one of %(allowed)s") % {"allowed": allowed})
        return known[text]

    return parse


def _roles(cell) -> list[str]:
    names = [part.strip().lower() for part in values.parse_text(cell).replace(",", ";").split(";") if part.strip()]
    unknown = [name for name in names if name not in ROLE_FLAGS]
    if unknown:
        raise ValueError(
            _("unknown role %(role)r: roles are %(roles)s (separated by ';')")
            % {"role": unknown[0], "roles": ", ".join(ROLE_FLAGS)}
        )
    return names


def _reference(cell) -> str:
    return values.parse_text(cell)


class ImportKindSpec:
    """The behaviour every kind shares; subclasses declare ``model``, ``fields``, ``required`` and the hooks."""

    kind: str
    model: type[Model]
    fields: dict[str, Field]
    required: tuple[str, ...] = ()  # fields that must be mapped to a column
    needed_for_create: tuple[str, ...] = ()  # fields a new row must fill
    relation_fields: frozenset[str] = frozenset()  # foreign keys, resolved here (full_clean would query each)
    # Whether preview also runs the model's database constraints per row (a query each): only for small kinds
    # whose constraints no service rule states; elsewhere the services' rules say it first and the database
    # refuses the rest at apply.
    constraints_per_row = False

    @property
    def export_header(self) -> list[str]:
        return list(self.fields)

    def key(self, row: Row) -> tuple:
        raise NotImplementedError

    def lookups(self, rows: list[Row]) -> Lookups:
        return Lookups()

    def existing(self, keys: Iterable[tuple]) -> dict[tuple, Model]:
        raise NotImplementedError

    def data(self, row: Row, lookups: Lookups) -> dict[str, Any]:
        """Model field values of the row's mapped fields (foreign keys as ``<name>_id``); RowError for a reference
        that names nothing."""
        raise NotImplementedError

    def rule_errors(self, instance: Model) -> dict[str, list[str]]:
        """The write path's own rules (accounts.services), before ``full_clean``."""
        return {}

    def export(self) -> Iterator[list]:
        raise NotImplementedError

    # Shared helpers ------------------------------------------------------------------------------------------

    def defaults(self) -> dict[str, Any]:
        return {}

    def user(self, row: Row, name: str, lookups: Lookups) -> int | None:
        ref = row.values.get(name)
        if not ref:
            return None
        found = lookups.users.get(ref.lower(), 0)
        if found == 0:
            raise RowError(name, _("no active user with this username or e-mail"))
        if found is None:
            raise RowError(name, _("several users have this e-mail: give the username"))
        return found

    def account(self, row: Row, lookups: Lookups, name: str = "account") -> int:
        ref = row.values.get(name)
        if ref not in lookups.accounts:
            raise RowError(name, _("no account with this external id (import the accounts first)"))
        return lookups.accounts[ref]


def _users() -> dict[str, int | None]:
    found: dict[str, int | None] = {}
    for pk, username, email in User.objects.filter(is_active=True).values_list("pk", "username", "email"):
        found[username.lower()] = pk
        if email:
            email = email.lower()
            found[email] = None if email in found and found[email] != pk else pk
    return found


def _accounts(refs: set[str]) -> dict[str, int]:
    return dict(Account.objects.filter(external_id__in=refs).values_list("external_id", "pk")) if refs else {}


def _username(user_id: int | None, usernames: dict[int, str]) -> str:
    return usernames.get(user_id, "") if user_id else ""


def _iso(value) -> str:
    return value.isoformat() if value is not None else ""


class AccountsKind(ImportKindSpec):
    kind = ImportKind.ACCOUNTS
    model = Account
    fields = {
        f.name: f
        for f in [
            Field("external_id", _text(Account, "external_id"), "the CRM id (the key)"),
            Field("name", _text(Account, "name")),
            Field("domain", _text(Account, "domain")),
            Field("owner", _reference, "the CSM: username or e-mail"),
            Field("account_executive", _reference, "username or e-mail"),
            Field("segment", _choice(Account, "segment")),
            Field("industry", _text(Account, "industry")),
            Field("region", _text(Account, "region")),
            Field("status", _choice(Account, "status")),
            Field("parent", _reference, "the parent account's external id"),
        ]
    }
    required = ("external_id",)
    needed_for_create = ("name",)
    relation_fields = frozenset({"owner", "account_executive", "parent"})

    def key(self, row: Row) -> tuple:
        return (row.values.get("external_id"),)

    def lookups(self, rows: list[Row]) -> Lookups:
        parents = {row.values["parent"] for row in rows if row.values.get("parent")}
        needs_users = any(row.values.get("owner") or row.values.get("account_executive") for row in rows)
        return Lookups(users=_users() if needs_users else {}, accounts=_accounts(parents))

    def existing(self, keys: Iterable[tuple]) -> dict[tuple, Model]:
        ids = [key[0] for key in keys]
        return {(a.external_id,): a for a in Account.objects.filter(external_id__in=ids)}

    def data(self, row: Row, lookups: Lookups) -> dict[str, Any]:
        data = {}
        for name in ("external_id", "name", "domain", "industry", "region"):
            if name in row.values:
                data[name] = row.values[name] or ""
        for name in ("segment", "status"):
            if name in row.values:
                data[name] = row.values[name] or Account._meta.get_field(name).default
        for name in ("owner", "account_executive"):
            if name in row.values:
                data[f"{name}_id"] = self.user(row, name, lookups)
        # The parent is resolved by the service once every row of the file has an id (it may be in the file).
        return data

    def rule_errors(self, instance: Model) -> dict[str, list[str]]:
        return _account_errors(instance)

    def export(self) -> Iterator[list]:
        usernames = dict(User.objects.values_list("pk", "username"))
        rows = Account.objects.order_by("external_id").values_list(
            "external_id",
            "name",
            "domain",
            "owner_id",
            "account_executive_id",
            "segment",
            "industry",
            "region",
            "status",
            "parent__external_id",
        )
        for external_id, name, domain, owner, ae, segment, industry, region, status, parent in rows.iterator(2000):
            yield [
                external_id,
                name,
                domain,
                _username(owner, usernames),
                _username(ae, usernames),
                segment,
                industry,
                region,
                status,
                parent or "",
            ]


class ContactsKind(ImportKindSpec):
    kind = ImportKind.CONTACTS
    model = Contact
    fields = {
        f.name: f
        for f in [
            Field("external_id", _text(Contact, "external_id"), "the CRM id (the key; else account and e-mail)"),
            Field("account", _reference, "the account's external id"),
            Field("name", _text(Contact, "name"), "or first_name and last_name"),
            Field("first_name", values.parse_text),
            Field("last_name", values.parse_text),
            Field("email", _text(Contact, "email")),
            Field("title", _text(Contact, "title")),
            Field("roles", _roles, "; between: " + ", ".join(ROLE_FLAGS)),
        ]
    }
    required = ("account",)
    relation_fields = frozenset({"account"})
    export_header = ["external_id", "account", "name", "email", "title", "roles"]

    def key(self, row: Row) -> tuple:
        if row.values.get("external_id"):
            return (row.values["external_id"],)
        if row.values.get("email"):
            return (row.values.get("account"), row.values["email"].lower())
        raise RowError("external_id", _("a contact needs an external id or an e-mail to be found again"))

    def lookups(self, rows: list[Row]) -> Lookups:
        return Lookups(accounts=_accounts({row.values.get("account") for row in rows if row.values.get("account")}))

    def existing(self, keys: Iterable[tuple]) -> dict[tuple, Model]:
        keys = list(keys)
        ids = [key[0] for key in keys if len(key) == 1]
        emails = [key[1] for key in keys if len(key) == 2]
        found = {}
        query = Q(external_id__in=ids) | Q(email_lower__in=emails, external_id="")
        for contact in Contact.objects.annotate(email_lower=Lower("email")).filter(query).select_related("account"):
            if contact.external_id:
                found[(contact.external_id,)] = contact
            else:
                found[(contact.account.external_id, contact.email.lower())] = contact
        return found

    def data(self, row: Row, lookups: Lookups) -> dict[str, Any]:
        data = {"account_id": self.account(row, lookups)}
        for name in ("external_id", "email", "title"):
            if name in row.values:
                data[name] = row.values[name] or ""
        if row.values.get("name") or "first_name" in row.values or "last_name" in row.values:
            name = row.values.get("name") or " ".join(
                part for part in (row.values.get("first_name"), row.values.get("last_name")) if part
            )
            data["name"] = _text(Contact, "name")(name) if name else ""
        elif "name" in row.values:
            data["name"] = ""
        if "roles" in row.values:
            roles = set(row.values["roles"] or [])
            data |= {flag: name in roles for name, flag in ROLE_FLAGS.items()}
        return data

    def rule_errors(self, instance: Model) -> dict[str, list[str]]:
        return _contact_errors(instance)

    def export(self) -> Iterator[list]:
        rows = Contact.objects.select_related("account").order_by("account__external_id", "external_id", "email", "pk")
        for contact in rows.iterator(2000):
            yield [
                contact.external_id,
                contact.account.external_id,
                contact.name,
                contact.email,
                contact.title,
                "; ".join(name for name, flag in ROLE_FLAGS.items() if getattr(contact, flag)),
            ]


class ContractsKind(ImportKindSpec):
    kind = ImportKind.CONTRACTS
    model = Contract
    fields = {
        f.name: f
        for f in [
            Field("external_id", _text(Contract, "external_id"), "the CRM id (the key)"),
            Field("account", _reference, "the account's external id"),
            Field("start_date", values.parse_date),
            Field("end_date", values.parse_date, "inclusive: the last day covered"),
            Field("currency", _choice(Contract, "currency")),
            Field("recurring_tcv", values.parse_decimal, "the recurring value of the whole term"),
            Field("one_time_fees", values.parse_decimal),
            Field("seats", values.parse_integer),
            Field("kind", _choice(Contract, "kind")),
            Field("renews", _reference, "the renewed contract's external id"),
            Field("auto_renew", values.parse_boolean),
            Field("status", _choice(Contract, "status")),
        ]
    }
    required = ("external_id", "account")
    needed_for_create = ("start_date", "end_date", "recurring_tcv")
    relation_fields = frozenset({"account", "renews"})

    def key(self, row: Row) -> tuple:
        return (row.values.get("external_id"),)

    def lookups(self, rows: list[Row]) -> Lookups:
        accounts = _accounts({row.values.get("account") for row in rows if row.values.get("account")})
        renewed = {row.values["renews"] for row in rows if row.values.get("renews")}
        contracts = {}
        if renewed:
            for pk, external_id, account_id in Contract.objects.filter(external_id__in=renewed).values_list(
                "pk", "external_id", "account_id"
            ):
                contracts[external_id] = Contract(pk=pk, external_id=external_id, account_id=account_id)
        return Lookups(accounts=accounts, contracts=contracts)

    def existing(self, keys: Iterable[tuple]) -> dict[tuple, Model]:
        ids = [key[0] for key in keys]
        return {(c.external_id,): c for c in Contract.objects.filter(external_id__in=ids)}

    def data(self, row: Row, lookups: Lookups) -> dict[str, Any]:
        data = {"account_id": self.account(row, lookups)}
        for name in ("external_id", "start_date", "end_date", "recurring_tcv", "seats"):
            if name in row.values:
                data[name] = row.values[name]
        for name in ("currency", "one_time_fees", "kind", "auto_renew", "status"):
            if name in row.values:
                value = row.values[name]
                data[name] = Contract._meta.get_field(name).default if value is None else value
        # ``renews`` is resolved by the service once every row of the file has an id (it may be in the file).
        return data

    def rule_errors(self, instance: Model) -> dict[str, list[str]]:
        return _contract_errors(instance)

    def export(self) -> Iterator[list]:
        rows = Contract.objects.order_by("account__external_id", "start_date", "external_id").values_list(
            "external_id",
            "account__external_id",
            "start_date",
            "end_date",
            "currency",
            "recurring_tcv",
            "one_time_fees",
            "seats",
            "kind",
            "renews__external_id",
            "auto_renew",
            "status",
        )
        for row in rows.iterator(2000):
            (external_id, account, start, end, currency, tcv, fees, seats, kind, renews, auto_renew, status) = row
            yield [
                external_id,
                account,
                start.isoformat(),
                end.isoformat(),
                currency,
                str(tcv),
                str(fees),
                "" if seats is None else seats,
                kind,
                renews or "",
                "TRUE" if auto_renew else "FALSE",
                status,
            ]


class ExchangeRatesKind(ImportKindSpec):
    kind = ImportKind.EXCHANGE_RATES
    model = ExchangeRate
    fields = {
        f.name: f
        for f in [
            Field("currency", _choice(ExchangeRate, "currency")),
            Field("date", values.parse_date),
            Field("rate", values.parse_decimal, "reporting-currency units for one unit of the currency"),
        ]
    }
    required = ("currency", "date", "rate")
    constraints_per_row = True

    def key(self, row: Row) -> tuple:
        return (row.values.get("currency"), row.values.get("date"))

    def existing(self, keys: Iterable[tuple]) -> dict[tuple, Model]:
        keys = list(keys)
        currencies, dates = {key[0] for key in keys}, [key[1] for key in keys if key[1]]
        if not dates:
            return {}
        rows = ExchangeRate.objects.filter(currency__in=currencies, date__gte=min(dates), date__lte=max(dates))
        return {(r.currency, r.date): r for r in rows}

    def data(self, row: Row, lookups: Lookups) -> dict[str, Any]:
        return {name: row.values.get(name) for name in ("currency", "date", "rate")}

    def export(self) -> Iterator[list]:
        for currency, date, rate in ExchangeRate.objects.order_by("currency", "date").values_list(
            "currency", "date", "rate"
        ):
            yield [currency, date.isoformat(), str(rate)]


class ActivitiesKind(ImportKindSpec):
    kind = ImportKind.ACTIVITIES
    model = Activity
    fields = {
        f.name: f
        for f in [
            Field("account", _reference, "the account's external id"),
            Field("kind", _choice(Activity, "kind")),
            Field("occurred_at", values.parse_datetime, "without an offset: UTC"),
            Field("subject", _text(Activity, "subject")),
            Field("body", values.parse_text),
            Field("contact", _reference, "the contact's external id"),
            Field("author", _reference, "username or e-mail"),
        ]
    }
    required = ("account", "kind", "occurred_at", "subject")
    relation_fields = frozenset({"account", "contact", "author"})

    def key(self, row: Row) -> tuple:
        moment = row.values.get("occurred_at")
        if moment is not None:
            try:
                moment = moment_checked(moment)
            except ValidationError as error:
                raise RowError("occurred_at", error.messages[0]) from None
        return (row.values.get("account"), row.values.get("kind"), moment, row.values.get("subject"))

    def lookups(self, rows: list[Row]) -> Lookups:
        accounts = _accounts({row.values.get("account") for row in rows if row.values.get("account")})
        contact_refs = {row.values["contact"] for row in rows if row.values.get("contact")}
        contacts = (
            dict(Contact.objects.filter(external_id__in=contact_refs).values_list("external_id", "pk"))
            if contact_refs
            else {}
        )
        users = _users() if any(row.values.get("author") for row in rows) else {}
        return Lookups(users=users, accounts=accounts, contacts=contacts)

    def existing(self, keys: Iterable[tuple]) -> dict[tuple, Model]:
        keys = [key for key in keys if key[2] is not None]
        if not keys:
            return {}
        accounts = _accounts({key[0] for key in keys})
        external_ids = {pk: ref for ref, pk in accounts.items()}
        rows = Activity.objects.filter(
            account_id__in=accounts.values(),
            occurred_at__gte=min(key[2] for key in keys),
            occurred_at__lte=max(key[2] for key in keys),
        )
        return {(external_ids[a.account_id], a.kind, a.occurred_at, a.subject): a for a in rows}

    def data(self, row: Row, lookups: Lookups) -> dict[str, Any]:
        data = {"account_id": self.account(row, lookups), "kind": row.values["kind"], "subject": row.values["subject"]}
        data["occurred_at"] = self.key(row)[2]
        if "body" in row.values:
            data["body"] = row.values["body"] or ""
        if "author" in row.values:
            data["author_id"] = self.user(row, "author", lookups)
        if "contact" in row.values:
            ref = row.values["contact"]
            if ref and ref not in lookups.contacts:
                raise RowError("contact", _("no contact with this external id"))
            data["contact_id"] = lookups.contacts.get(ref) if ref else None
        return data

    def export(self) -> Iterator[list]:
        usernames = dict(User.objects.values_list("pk", "username"))
        rows = Activity.objects.order_by("account__external_id", "occurred_at", "pk").values_list(
            "account__external_id", "kind", "occurred_at", "subject", "body", "contact__external_id", "author_id"
        )
        for account, kind, moment, subject, body, contact, author in rows.iterator(2000):
            yield [account, kind, _iso(moment), subject, body, contact or "", _username(author, usernames)]


KINDS: dict[str, ImportKindSpec] = {
    spec.kind: spec for spec in (AccountsKind(), ContactsKind(), ContractsKind(), ExchangeRatesKind(), ActivitiesKind())
}


def kind_spec(kind: str) -> ImportKindSpec:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")
    return KINDS[kind]
