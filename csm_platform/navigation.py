"""The main navigation: one list, each entry shown to the users whose predicate allows it."""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import SimpleLazyObject


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str
    visible: Callable = lambda user: True


NAV_ITEMS: list[NavItem] = []


def _items(request) -> list[dict]:
    if not request.user.is_authenticated:
        return []
    items = []
    for item in NAV_ITEMS:
        if item.visible(request.user):
            url = reverse(item.url_name)
            items.append({"url": url, "label": item.label, "active": request.path.startswith(url) and url != "/"})
    return items


def navigation(request) -> dict:
    """Context processor: the entries visible to the user, the current one marked. Lazy, so pages that show no
    navigation (the admin) pay nothing for it."""
    return {"nav_items": SimpleLazyObject(lambda: _items(request))}
