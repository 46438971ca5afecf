"""One call of the Segment tracking API: validated and brought to the shape ``services`` stores.

What each field means, and Segment's time rules, are in ``services``' docstring; this module only checks a call
(type, ids, sizes, text, times) and extracts it, raising ``InvalidCall`` (listed in the answer, the rest of the
batch is stored) or ``BatchRejected`` (a call over 32 KB: the request is refused).
"""

import datetime as dt
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from accounts.models import Account, Contact, UsageEvent
from csm_platform.validation import has_nul, moment_checked

MAX_CALL_BYTES = 32 * 1024
MAX_FUTURE = dt.timedelta(hours=24)

TRACK, PAGE, SCREEN, IDENTIFY, GROUP = "track", "page", "screen", "identify", "group"
KINDS = (TRACK, PAGE, SCREEN, IDENTIFY, GROUP)
USAGE_KINDS = (TRACK, PAGE, SCREEN)  # the calls that become usage events
PAGE_EVENT, SCREEN_EVENT = "Page Viewed", "Screen Viewed"


def _max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


MESSAGE_ID_MAX = _max_length(UsageEvent, "message_id")
USER_ID_MAX = _max_length(UsageEvent, "user_id")
EVENT_MAX = _max_length(UsageEvent, "event")
GROUP_ID_MAX = _max_length(Account, "external_id")
ACCOUNT_TRAITS = {"name": _max_length(Account, "name"), "industry": _max_length(Account, "industry")}
DOMAIN_MAX = _max_length(Account, "domain")
NAME_MAX, TITLE_MAX, EMAIL_MAX = (_max_length(Contact, name) for name in ("name", "title", "email"))

# Validates a call and measures it in one pass (built once: json.dumps would build it per call). The calls it
# accepts are plain finite JSON of any integer size and depth.
_CALL_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False)


class BatchRejected(Exception):
    """The request as a whole is refused (answered 400) and nothing of it is stored."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class InvalidCall(Exception):
    """One call of a batch is invalid: listed in the answer, the rest of the batch is stored."""


@dataclass(slots=True)
class Call:
    index: int
    kind: str
    message_id: str
    user_id: str  # userId, else anonymousId
    named: bool  # user_id is a userId
    group_id: str
    event: str
    occurred_at: dt.datetime
    clamped: bool
    data: dict  # properties (track, page) or traits (identify, group)


def call_parse(message: object, *, index: int, received_at: dt.datetime, sent_at: dt.datetime | None) -> Call:
    """Validate one call and bring it to the stored shape; raises ``InvalidCall``, or ``BatchRejected`` when it
    is over 32 KB."""
    if not isinstance(message, dict):
        raise InvalidCall("a call must be a JSON object")
    try:
        text = _CALL_ENCODER.encode(message)
        size = len(text.encode())
    except UnicodeEncodeError:
        raise InvalidCall("text must be valid Unicode (no lone surrogates)") from None
    except (ValueError, TypeError, RecursionError):
        raise InvalidCall("numbers must be finite and values plain JSON") from None
    if size > MAX_CALL_BYTES:
        raise BatchRejected("call_too_large", f"call {index} is {size} bytes; a call may have at most 32 KB")
    if "\\u0000" in text and has_nul(message):
        raise InvalidCall("text must not contain NUL characters")

    kind = message.get("type")
    if kind not in KINDS:
        raise InvalidCall(f"type must be one of {', '.join(KINDS)}")
    message_id = _text(message.get("messageId"), "messageId", MESSAGE_ID_MAX)
    if not message_id:
        raise InvalidCall("messageId is required")
    user_id = _text(message.get("userId"), "userId", USER_ID_MAX)
    anonymous_id = _text(message.get("anonymousId"), "anonymousId", USER_ID_MAX)
    context = _object(message.get("context"), "context")

    event, group_id = "", ""
    if kind == GROUP:
        data = _object(message.get("traits"), "traits")
        group_id = _text(message.get("groupId"), "groupId", GROUP_ID_MAX)
        if not group_id:
            raise InvalidCall("groupId is required")
    elif kind == IDENTIFY:
        data = _object(message.get("traits"), "traits")
        if not user_id:
            raise InvalidCall("userId is required")
        company = data.get("company")
        group_id = (
            _text(context.get("groupId"), "context.groupId", GROUP_ID_MAX)
            or _text(data.get("groupId"), "traits.groupId", GROUP_ID_MAX)
            or (_text(company.get("id"), "traits.company.id", GROUP_ID_MAX) if isinstance(company, dict) else "")
        )
    else:
        data = _object(message.get("properties"), "properties")
        if not (user_id or anonymous_id):
            raise InvalidCall("userId or anonymousId is required")
        group_id = _text(context.get("groupId"), "context.groupId", GROUP_ID_MAX) or _text(
            data.get("groupId"), "properties.groupId", GROUP_ID_MAX
        )
        if kind == TRACK:
            event = _text(message.get("event"), "event", EVENT_MAX)
            if not event:
                raise InvalidCall("event is required")
        else:
            event = PAGE_EVENT if kind == PAGE else SCREEN_EVENT
            page = {name: message[name] for name in ("name", "category") if message.get(name) is not None}
            if page:
                data = page | data

    occurred_at, clamped = _occurred_at(message, received_at=received_at, sent_at=sent_at)
    return Call(
        index, kind, message_id, user_id or anonymous_id, bool(user_id), group_id, event, occurred_at, clamped, data
    )


def _occurred_at(message: dict, *, received_at: dt.datetime, sent_at: dt.datetime | None) -> tuple[dt.datetime, bool]:
    """When the call happened, by Segment's rules (module docstring), and whether it was clamped."""
    occurred_at = parse_time(message.get("timestamp"), "timestamp")
    if occurred_at is None:
        original = parse_time(message.get("originalTimestamp"), "originalTimestamp")
        sent_at = parse_time(message.get("sentAt"), "sentAt") or sent_at
        try:
            occurred_at = received_at - (sent_at - original) if original and sent_at else original or received_at
        except OverflowError:
            raise InvalidCall("originalTimestamp and sentAt are too far apart") from None
    if occurred_at - received_at > MAX_FUTURE:
        return received_at, True
    return occurred_at, False


def parse_time(value: object, name: str) -> dt.datetime | None:
    """An ISO 8601 time (UTC when it has no offset) converted to UTC, None when absent."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidCall(f"{name} must be an ISO 8601 time string")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidCall(f"{name} is not an ISO 8601 time") from None
    try:
        return moment_checked(parsed)
    except ValidationError as error:
        raise InvalidCall(f"{name}: {error.messages[0]}") from None


def _text(value: object, name: str, max_length: int) -> str:
    """An id or name: a string (or an integer, as the clients' ``stringify_id``), "" when absent."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidCall(f"{name} must be a string")
    text = value if isinstance(value, str) else str(value)
    if len(text) > max_length:
        raise InvalidCall(f"{name} must have at most {max_length} characters")
    return text


def _object(value: object, name: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidCall(f"{name} must be a JSON object")
    return value


def _string_trait(traits: dict, name: str, max_length: int) -> str | None:
    value = traits.get(name)
    return value.strip()[:max_length] if isinstance(value, str) and value.strip() else None


def account_traits(traits: dict) -> dict[str, str]:
    """The account fields a group call's traits give: name, domain (or the website's host), industry."""
    fields = {name: value for name, limit in ACCOUNT_TRAITS.items() if (value := _string_trait(traits, name, limit))}
    domain = _string_trait(traits, "domain", DOMAIN_MAX)
    website = _string_trait(traits, "website", DOMAIN_MAX)
    if domain is None and website is not None:
        try:
            domain = urlsplit(website).hostname or website
        except ValueError:
            domain = website
    if domain:
        fields["domain"] = domain
    return fields


def contact_traits(traits: dict) -> tuple[dict[str, str], list[str]]:
    """The contact fields an identify call's traits give (email, name, title), and the problems found."""
    fields, problems = {}, []
    email = traits.get("email")
    if email is not None:
        try:
            if not isinstance(email, str) or len(email) > EMAIL_MAX:
                raise ValidationError("not a string")
            validate_email(email)
            fields["email"] = email
        except ValidationError:
            problems.append("traits.email is not an email address: ignored")
    name = _string_trait(traits, "name", NAME_MAX)
    if name is None:
        parts = [_string_trait(traits, part, NAME_MAX) for part in ("firstName", "lastName")]
        name = " ".join(part for part in parts if part)[:NAME_MAX] or None
    if name:
        fields["name"] = name
    if title := _string_trait(traits, "title", TITLE_MAX):
        fields["title"] = title
    return fields, problems
