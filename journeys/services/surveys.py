"""Writes of surveys: answers from the REST API, a CSV upload and the Segment "Survey Responded" track call.

All three go through ``_responses_build`` (validation and contact lookup, set-based) and ``_responses_store``
(one transaction; an answer with an external id is stored once per source), then a new detractor answer
evaluates the "detractor" playbooks for its account at once.
"""

import csv
import datetime as dt
import io
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from accounts.models import Account, Contact
from accounts.services import accounts_mark_changed
from csm_platform.dates import day_start
from csm_platform.validation import moment_checked, text_checked

from ..errors import JourneyError
from ..models import SurveyResponse, Trigger
from ..selectors.surveys import DETRACTOR_UP_TO
from .playbooks import playbooks_evaluate

Kind = SurveyResponse.Kind
KIND_ALIASES = {"nps": Kind.NPS, "csat": Kind.CSAT, "ces": Kind.CES, "customer_effort": Kind.CES, "effort": Kind.CES}
CSV_REQUIRED = ("account", "kind", "score", "responded_at")
CSV_OPTIONAL = ("contact_email", "comment", "external_id")
TEXT_FIELDS = ("account", "kind", "score", "responded_at", "contact_email", "comment", "external_id")
CSV_MAX_ROWS = 10_000
TRACK_EVENT = "Survey Responded"
EXTERNAL_ID_MAX = SurveyResponse._meta.get_field("external_id").max_length
EMAIL_MAX = SurveyResponse._meta.get_field("respondent_email").max_length


def _kind(value: object) -> str:
    kind = KIND_ALIASES.get(str(value).strip().lower()) if value is not None else None
    if kind is None:
        raise JourneyError(_("kind must be nps, csat or ces (customer effort), not %(value)r.") % {"value": value})
    return kind


def _score(value: object, kind: str) -> int:
    if isinstance(value, bool):
        raise JourneyError(_("score must be a whole number."))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
        value = int(value.strip())
    if not isinstance(value, int):
        raise JourneyError(_("score must be a whole number, not %(value)r.") % {"value": value})
    low, high = SurveyResponse.SCALES[kind]
    if not low <= value <= high:
        raise JourneyError(
            _("A %(kind)s score is %(low)s to %(high)s; %(value)s is out of range.")
            % {"kind": Kind(kind).label, "low": low, "high": high, "value": value}
        )
    return value


def _moment(value: object, now: dt.datetime) -> dt.datetime:
    """A datetime, or an ISO date/datetime string (a date is its first instant; no zone means UTC), in UTC."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = day_start(value)
    else:
        text = str(value or "").strip()
        try:  # both raise ValueError for a well-formed but impossible date (month 13, offset +99:00)
            moment = parse_datetime(text) if "T" in text or " " in text else None
        except ValueError:
            moment = None
        if moment is None:
            try:
                day = parse_date(text)
            except ValueError:
                day = None
            if day is None:
                raise JourneyError(
                    _("responded_at must be an ISO date or date-time, not %(value)r.") % {"value": value}
                )
            moment = day_start(day)
    try:
        moment = moment_checked(moment)
    except ValidationError as error:
        raise JourneyError(_("responded_at %(error)s") % {"error": error.messages[0]}) from None
    if moment > now + dt.timedelta(minutes=5):
        raise JourneyError(_("responded_at %(value)s is in the future.") % {"value": moment.isoformat()})
    return moment


def _text_problem(row: dict) -> str | None:
    """Why a row's text cannot be stored or looked up (a NUL character), None when it can."""
    for name in TEXT_FIELDS:
        try:
            text_checked(str(row.get(name) or ""))
        except ValidationError as error:
            return f"{name}: {error.messages[0]}"
    return None


@dataclass
class ImportResult:
    created: int = 0
    duplicates: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, message)


def _responses_build(
    rows: list[dict], *, source: str, created_by_id: int | None, now: dt.datetime, user=None
) -> tuple[list[SurveyResponse], list[tuple[int, str]]]:
    """Validate every row (keys: account_id or account [CRM id], kind, score, responded_at, and optionally contact_id,
    contact_email, comment, external_id) with one query for accounts and one for contacts. Returns the unsaved
    answers and the errors as (row index, message); nothing is written. A row whose text has a NUL character is
    an error before any lookup (PostgreSQL refuses it even in a query). With ``user``, a row of an account that
    user may not change (``Account.objects.editable_by``) is an error too: answers feed health and playbooks."""
    refused = {index: problem for index, row in enumerate(rows) if (problem := _text_problem(row))}
    readable = [row for index, row in enumerate(rows) if index not in refused]
    external_ids = {str(row["account"]).strip() for row in readable if row.get("account") not in (None, "")}
    by_external_id = dict(Account.objects.filter(external_id__in=external_ids).values_list("external_id", "pk"))
    account_ids = {row["account_id"] for row in readable if isinstance(row.get("account_id"), int)}
    known_ids = set(Account.objects.filter(pk__in=account_ids).values_list("pk", flat=True))
    emails = {str(row.get("contact_email") or "").strip().lower() for row in readable} - {""}
    contact_ids = {row["contact_id"] for row in readable if isinstance(row.get("contact_id"), int)}
    contacts = list(Contact.objects.filter(email__in=emails).values_list("pk", "account_id", "email")) + list(
        Contact.objects.filter(pk__in=contact_ids).values_list("pk", "account_id", "email")
    )
    contact_account = {pk: account_id for pk, account_id, _email in contacts}
    contact_by_email = {(account_id, email.lower()): pk for pk, account_id, email in contacts if email}
    writable = None
    if user is not None:
        referenced = set(by_external_id.values()) | known_ids
        writable = set(Account.objects.editable_by(user).filter(pk__in=referenced).values_list("pk", flat=True))

    built, errors, seen = [], [], set()
    for index, row in enumerate(rows):
        if index in refused:
            errors.append((index, refused[index]))
            continue
        try:
            if row.get("account_id") is not None:
                account_id = row["account_id"]
                if account_id not in known_ids:
                    raise JourneyError(_("There is no account %(id)s.") % {"id": account_id})
            else:
                account_id = by_external_id.get(str(row.get("account") or "").strip())
                if account_id is None:
                    raise JourneyError(_("No account has the CRM id %(id)r.") % {"id": row.get("account")})
            if writable is not None and account_id not in writable:
                raise JourneyError(
                    _("You may not record answers for this account: it is not among the accounts you may change.")
                )
            kind = _kind(row.get("kind"))
            score = _score(row.get("score"), kind)
            responded_at = _moment(row.get("responded_at"), now)
            email = str(row.get("contact_email") or "").strip().lower()
            if email:
                try:
                    validate_email(text_checked(email, max_length=EMAIL_MAX))
                except ValidationError:
                    raise JourneyError(_("%(email)r is not an e-mail address.") % {"email": email}) from None
            contact_id = row.get("contact_id")
            if contact_id is not None and contact_account.get(contact_id) != account_id:
                raise JourneyError(_("Contact %(id)s is not a contact of this account.") % {"id": contact_id})
            contact_id = contact_id or contact_by_email.get((account_id, email))
            external_id = str(row.get("external_id") or "").strip()
            if len(external_id) > EXTERNAL_ID_MAX:
                raise JourneyError(_("external_id may have at most %(n)s characters.") % {"n": EXTERNAL_ID_MAX})
            if external_id and external_id in seen:
                raise JourneyError(_("external_id %(id)r appears twice.") % {"id": external_id})
            seen.add(external_id)
        except JourneyError as error:
            errors.append((index, str(error)))
            continue
        if contact_id:
            respondent = f"contact:{contact_id}"
        elif email:
            respondent = f"email:{email}"
        else:
            respondent = f"answer:{source}:{external_id}" if external_id else f"answer:{uuid.uuid4()}"
        built.append(
            SurveyResponse(
                account_id=account_id,
                contact_id=contact_id,
                respondent_email=email,
                respondent=respondent,
                kind=kind,
                score=score,
                responded_at=responded_at,
                comment=str(row.get("comment") or "").strip(),
                source=source,
                external_id=external_id,
                created_by_id=created_by_id,
            )
        )
    return built, errors


@transaction.atomic
def _responses_store(responses: list[SurveyResponse], *, source: str) -> tuple[list[SurveyResponse], int]:
    """Insert the answers whose external id is new for the source; returns (stored, duplicates). New detractor
    answers evaluate the detractor playbooks of their accounts."""
    external_ids = [r.external_id for r in responses if r.external_id]
    existing = set(
        SurveyResponse.objects.filter(source=source, external_id__in=external_ids).values_list("external_id", flat=True)
    )
    fresh = [r for r in responses if not r.external_id or r.external_id not in existing]
    SurveyResponse.objects.bulk_create([r for r in fresh if not r.external_id])
    # A concurrent sender of the same external id loses quietly (its answer is already stored).
    SurveyResponse.objects.bulk_create([r for r in fresh if r.external_id], ignore_conflicts=True)
    accounts_mark_changed(account_ids={r.account_id for r in fresh})  # NPS is a health measure: re-scored today
    detractor_accounts = {r.account_id for r in fresh if r.kind == Kind.NPS and r.score <= DETRACTOR_UP_TO}
    if detractor_accounts:
        playbooks_evaluate(as_of=timezone.now().date(), account_ids=detractor_accounts, triggers=[Trigger.DETRACTOR])
    return fresh, len(responses) - len(fresh)


def survey_response_create(
    *,
    account_id: int,
    kind: str,
    score: object,
    responded_at: object,
    source: str,
    contact_id: int | None = None,
    contact_email: str = "",
    comment: str = "",
    external_id: str = "",
    created_by_id: int | None = None,
) -> SurveyResponse:
    """Store one answer (an answer whose ``external_id`` the source already sent is returned as stored)."""
    row = {
        "account_id": account_id,
        "kind": kind,
        "score": score,
        "responded_at": responded_at,
        "contact_id": contact_id,
        "contact_email": contact_email,
        "comment": comment,
        "external_id": external_id,
    }
    built, errors = _responses_build([row], source=source, created_by_id=created_by_id, now=timezone.now())
    if errors:
        raise JourneyError(errors[0][1])
    stored, _duplicates = _responses_store(built, source=source)
    if built[0].external_id:
        return SurveyResponse.objects.get(source=source, external_id=built[0].external_id)
    return stored[0]


def survey_responses_import_csv(
    *, file: Iterable[bytes] | io.IOBase, created_by_id: int | None, user=None
) -> ImportResult:
    """Import a CSV (UTF-8, header ``account,kind,score,responded_at`` and optionally ``contact_email``, ``comment``,
    ``external_id``; ``account`` is the CRM id). Every row is validated first: with any error nothing is written
    and the errors are returned by line; otherwise all rows are stored in one transaction (rows whose
    ``external_id`` was uploaded before count as duplicates). With ``user`` (an upload in the app), a row of an
    account that user may not change is an error."""
    raw = file.read() if hasattr(file, "read") else b"".join(file)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return ImportResult(errors=[(1, _("The file is not UTF-8 text."))])
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in CSV_REQUIRED if name not in header]
    if missing:
        return ImportResult(errors=[(1, _("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)})])
    reader.fieldnames = header
    try:
        rows = [{k: v for k, v in row.items() if k in CSV_REQUIRED + CSV_OPTIONAL} for row in reader]
    except csv.Error as error:
        return ImportResult(errors=[(reader.line_num, _("Unreadable CSV: %(error)s") % {"error": error})])
    if not rows:
        return ImportResult(errors=[(1, _("The file has no rows."))])
    if len(rows) > CSV_MAX_ROWS:
        return ImportResult(errors=[(1, _("At most %(n)s rows per file.") % {"n": CSV_MAX_ROWS})])
    built, errors = _responses_build(
        rows, source=SurveyResponse.Source.CSV, created_by_id=created_by_id, now=timezone.now(), user=user
    )
    if errors:
        return ImportResult(errors=[(index + 2, message) for index, message in errors])
    stored, duplicates = _responses_store(built, source=SurveyResponse.Source.CSV)
    return ImportResult(created=len(stored), duplicates=duplicates)


def survey_response_from_track(
    *, account_id: int, user_id: str, properties: dict, occurred_at: dt.datetime, message_id: str
) -> SurveyResponse:
    """A Segment ``track`` call named "Survey Responded": ``properties.type`` (nps, csat or ces; ``survey_type`` or
    ``kind`` also read), ``properties.score`` and optionally ``properties.comment``; the contact is the one of
    ``userId``. Stored once per ``messageId``. Raises ``JourneyError`` for invalid properties."""
    properties = properties if isinstance(properties, dict) else {}
    kind = properties.get("type", properties.get("survey_type", properties.get("kind")))
    contact_id = None
    if user_id:
        contact_id = Contact.objects.filter(user_id=user_id, account_id=account_id).values_list("pk", flat=True).first()
    return survey_response_create(
        account_id=account_id,
        kind=kind,
        score=properties.get("score"),
        responded_at=occurred_at,
        source=SurveyResponse.Source.SEGMENT,
        contact_id=contact_id,
        comment=str(properties.get("comment") or ""),
        external_id=message_id,
    )


def survey_track_handler(
    *, account_id: int, user_id: str, properties: dict, occurred_at: dt.datetime, message_id: str
) -> str | None:
    """The tracking API's handler for "Survey Responded": records the answer, or returns why it could not."""
    try:
        survey_response_from_track(
            account_id=account_id,
            user_id=user_id,
            properties=properties,
            occurred_at=occurred_at,
            message_id=message_id,
        )
    except JourneyError as error:
        return f"survey answer not recorded: {error}"
    return None
