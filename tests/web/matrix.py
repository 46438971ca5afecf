"""A reusable permission matrix: every URL of the listed namespaces, requested as every role of the cast and as an
anonymous visitor, with the status each must get. Other apps' tests import ``url_patterns`` and ``request_as``."""

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.urls import URLPattern, URLResolver, get_resolver, reverse

ROLES = ("alice", "bob", "mallory", "andy", "edna", "ada")
ANONYMOUS = "anonymous"


def url_patterns(namespaces: set[str]) -> Iterator[tuple[str, list[str]]]:
    """``("namespace:name", [kwarg names])`` of every named URL pattern in ``namespaces``."""

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name and namespace in namespaces:
                yield f"{namespace}:{pattern.name}", list(pattern.pattern.regex.groupindex)

    yield from walk(get_resolver().url_patterns, None)


@dataclass(frozen=True)
class Case:
    """One URL and method, and the status each role gets (a role left out gets ``default``)."""

    name: str
    method: str = "get"
    kwargs: dict = field(default_factory=dict)
    query: str = ""
    data: dict = field(default_factory=dict)
    expected: dict[str, int] = field(default_factory=dict)
    default: int = 200

    def url(self) -> str:
        return reverse(self.name, kwargs=self.kwargs) + (f"?{self.query}" if self.query else "")

    def status_for(self, role: str) -> int:
        return self.expected.get(role, self.default)


def request_as(client, case: Case, user) -> int:
    """The response status of ``case`` for ``user`` (None: anonymous)."""
    client.logout()
    if user is not None:
        client.force_login(user)
    response = getattr(client, case.method)(case.url(), case.data)
    return response.status_code
