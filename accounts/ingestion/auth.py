"""Who is sending: write keys looked up by their SHA-256 (cached briefly), and the per-key rate limit.

Both live in the Django cache, which is Redis when ``REDIS_URL`` is set, so every gunicorn worker sees the same
counters and a revocation (which deletes the cached entry) takes effect at once. Without Redis the cache is
per process: a revoked key may then still be accepted by another process for up to ``CACHE_SECONDS``.
"""

import hashlib
import time
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache

from accounts.models import WriteKey

CACHE_SECONDS = 30


class WriteKeyIdentity(NamedTuple):
    write_key_id: int
    source_id: int


def write_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _cache_key(key_hash: str) -> str:
    return f"ingest:write-key:{key_hash}"


def write_key_authenticate(*, key: str) -> WriteKeyIdentity | None:
    """The active write key ``key`` is, or None (unknown or revoked). Answers, good or bad, are cached briefly."""
    if not key:
        return None
    key_hash = write_key_hash(key)
    cached = cache.get(_cache_key(key_hash))
    if cached is None:
        found = (
            WriteKey.objects.filter(key_hash=key_hash, revoked_at__isnull=True).values_list("id", "source_id").first()
        )
        cached = tuple(found) if found else ()
        cache.set(_cache_key(key_hash), cached, CACHE_SECONDS)
    return WriteKeyIdentity(*cached) if cached else None


def write_key_cache_clear(*, key_hash: str) -> None:
    cache.delete(_cache_key(key_hash))


def write_key_throttle(*, write_key_id: int) -> int | None:
    """Count a request against the key's per-second budget (``INGEST_RATE_LIMIT_PER_SECOND``, 0 turns it off);
    returns the seconds to wait (for ``Retry-After``) when the budget is spent, else None. A fixed one-second
    window: an atomic add-or-increment of one cache counter."""
    limit = settings.INGEST_RATE_LIMIT_PER_SECOND
    if not limit:
        return None
    counter = f"ingest:rate:{write_key_id}:{int(time.time())}"
    if cache.add(counter, 1, timeout=2):
        count = 1
    else:
        try:
            count = cache.incr(counter)
        except ValueError:  # the counter expired between add and incr: this request opens a new window
            cache.set(counter, 1, timeout=2)
            count = 1
    return 1 if count > limit else None
