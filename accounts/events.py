"""Events of the accounts app that other apps may listen to, without accounts knowing them (journeys sends its
outgoing webhooks from here). An event's payload is a JSON-ready dict; ``emit`` calls each listener at once, in
the caller's transaction, so a listener that writes commits or rolls back with the work it reports on.

Events: ``import_finished`` (a spreadsheet import applied: ``{"import_id", "kind", "file_name", "created",
"updated", "unchanged", "user"}``).
"""

from collections import defaultdict
from collections.abc import Callable

EVENTS = ("import_finished",)

_listeners: dict[str, list[Callable[[dict], None]]] = defaultdict(list)


def register_listener(event: str, listener: Callable[[dict], None]) -> None:
    """Call ``listener(payload)`` on each ``emit(event, payload)``; registering the same listener twice is a no-op."""
    if event not in EVENTS:
        raise ValueError(f"Unknown accounts event {event!r}; one of {', '.join(EVENTS)}.")
    if listener not in _listeners[event]:
        _listeners[event].append(listener)


def emit(event: str, payload: dict) -> None:
    """Tell the listeners of ``event``."""
    if event not in EVENTS:
        raise ValueError(f"Unknown accounts event {event!r}; one of {', '.join(EVENTS)}.")
    for listener in list(_listeners[event]):
        listener(payload)
