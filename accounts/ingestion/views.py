"""The Segment HTTP Tracking API: ``POST /v1/batch``, ``/v1/track``, ``/v1/identify``, ``/v1/group``, ``/v1/page``,
``/v1/screen``.

Each request is read (at most 500 KB, gzip accepted; a chunked body without ``Content-Length`` too), authenticated
(HTTP Basic with the write key as user name, or ``writeKey`` in the body), rate limited per key, and handed to
``ingest_batch``. The work and the answer are bounded whatever the body inflates to: at most 500 KB is read or
decompressed, a batch has at most ``MAX_BATCH_CALLS`` calls, and the answer lists at most ``LISTED_MAX`` errors
and warnings. Answers are JSON:

- 200 ``{"success": true, "accepted", "duplicates", "quarantined", "released", "errors": [{"index", "messageId",
  "error"}], "error_counts": {error: n}, "warnings": [{"index", "messageId", "warning"}], "warnings_omitted"}``
  for a well-formed request, even when some calls are invalid (the first ones are listed, all are counted; the
  valid ones are stored): the official clients retry anything else, which would resend the valid calls.
- 400 ``{"success": false, "code", "error"}``: invalid JSON, not an object, ``batch`` not a list, body over
  500 KB (before or after gzip), more than ``MAX_BATCH_CALLS`` calls, a call over 32 KB, an invalid ``sentAt``.
- 401 missing, unknown or revoked key; 405 not a POST; 411 a chunked body the server does not end (Django's
  development server; gunicorn does); 415 a ``Content-Encoding`` other than gzip; 429 over the key's rate
  (``INGEST_RATE_LIMIT_PER_SECOND``), with ``Retry-After`` in seconds.
"""

import base64
import json
import zlib
from dataclasses import asdict

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from ..tasks import usage_rollups_fold_soon
from .auth import WriteKeyIdentity, write_key_authenticate, write_key_throttle
from .services import BatchRejected, ingest_batch

MAX_BODY_BYTES = 500 * 1024


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.headers = status, code, headers or {}


@csrf_exempt
def tracking_api(request: HttpRequest, kind: str) -> JsonResponse:
    """One endpoint of the tracking API; ``kind`` is ``batch`` or the call type the path names."""
    try:
        if request.method != "POST":
            raise _Refused(405, "method_not_allowed", "use POST", {"Allow": "POST"})
        declared = request.META.get("CONTENT_LENGTH", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise _Refused(400, "body_too_large", "the body may have at most 500 KB")
        header_key = _basic_auth_key(request)
        identity = _authenticate(header_key) if header_key is not None else None
        body = _body(request)
        if identity is None:
            identity = _authenticate(body.get("writeKey"))
        if kind == "batch":
            messages, sent_at = body.get("batch"), body.get("sentAt")
            if not isinstance(messages, list):
                raise _Refused(400, "invalid_batch", "batch must be a list of calls")
        else:
            messages, sent_at = [body | {"type": kind}], None
        result = ingest_batch(
            source_id=identity.source_id, messages=messages, received_at=timezone.now(), sent_at=sent_at
        )
    except _Refused as refused:
        return JsonResponse(
            {"success": False, "code": refused.code, "error": str(refused)},
            status=refused.status,
            headers=refused.headers,
        )
    except BatchRejected as rejected:
        return JsonResponse({"success": False, "code": rejected.code, "error": str(rejected)}, status=400)
    usage_rollups_fold_soon()
    return JsonResponse({"success": True, **asdict(result)})


def _basic_auth_key(request: HttpRequest) -> str | None:
    """The user name of an HTTP Basic ``Authorization`` header ("" when unreadable), None without one."""
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        return base64.b64decode(credentials.strip(), validate=True).decode().partition(":")[0]
    except ValueError:  # binascii.Error and UnicodeDecodeError
        return ""


def _authenticate(key: object) -> WriteKeyIdentity:
    identity = write_key_authenticate(key=key) if isinstance(key, str) else None
    if identity is None:
        raise _Refused(401, "invalid_write_key", "a valid write key is required (HTTP Basic user name or writeKey)")
    if retry_after := write_key_throttle(write_key_id=identity.write_key_id):
        raise _Refused(429, "rate_limited", "too many requests for this write key", {"Retry-After": str(retry_after)})
    return identity


def _body(request: HttpRequest) -> dict:
    """The request's JSON object: at most 500 KB, decompressed first when gzip-encoded."""
    raw = _raw_body(request)
    if len(raw) > MAX_BODY_BYTES:
        raise _Refused(400, "body_too_large", "the body may have at most 500 KB")
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding == "gzip":
        raw = _gunzip(raw)
    elif encoding not in ("", "identity"):
        raise _Refused(415, "unsupported_encoding", "Content-Encoding must be gzip or none")
    try:
        body = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise _Refused(400, "invalid_json", "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise _Refused(400, "invalid_body", "the body must be a JSON object")
    return body


def _raw_body(request: HttpRequest) -> bytes:
    """At most ``MAX_BODY_BYTES`` + 1 bytes of the body. Django reads a body without ``Content-Length`` as empty;
    a chunked one is then read from the server's stream, which gunicorn decodes and ends (``wsgi.input_terminated``).
    Under ASGI (no ``wsgi.input``) Django has the whole body already."""
    stream = request.META.get("wsgi.input")
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if not chunked or stream is None or request.META.get("CONTENT_LENGTH"):
        return request.read(MAX_BODY_BYTES + 1)
    if not request.META.get("wsgi.input_terminated"):
        raise _Refused(411, "length_required", "this server cannot read a chunked body: send a Content-Length")
    chunks, size = [], 0
    while size <= MAX_BODY_BYTES and (chunk := stream.read(MAX_BODY_BYTES + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _gunzip(raw: bytes) -> bytes:
    """Decompress at most 500 KB (more is refused, so a small gzip bomb costs nothing)."""
    decompressor = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    try:
        data = decompressor.decompress(raw, MAX_BODY_BYTES + 1)
    except zlib.error:
        raise _Refused(400, "invalid_gzip", "the body is not valid gzip") from None
    if len(data) > MAX_BODY_BYTES:
        raise _Refused(400, "body_too_large", "the body may have at most 500 KB once decompressed")
    if not decompressor.eof or decompressor.unused_data:
        raise _Refused(400, "invalid_gzip", "the body is not one complete gzip stream")
    return data
