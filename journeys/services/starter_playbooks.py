"""The starter playbook library: the playbooks real CS teams run, as data (``journeys/fixtures/
starter_playbooks.json``), loaded into a workspace by ``starter_playbooks_load`` (``manage.py
load_starter_playbooks``, and the demo loader).

Loading is idempotent by name: a playbook already there (maybe edited by an admin) is left as it is, except that
``activate`` switches it on. A condition's ``"stage": "onboarding"`` is the stage just before the workspace's
adoption stage (Purchase (onboarding) in the default journey); without one, that playbook is skipped.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from ..models import Playbook, PlaybookCondition, PlaybookStep, Stage
from ..selectors.surveys import journey_settings_get

LIBRARY = Path(__file__).resolve().parents[1] / "fixtures" / "starter_playbooks.json"


@dataclass
class StarterLoad:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    activated: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # name: why


def starter_library() -> list[dict]:
    return json.loads(LIBRARY.read_text(encoding="utf-8"))


def _onboarding_stage() -> Stage | None:
    adoption = journey_settings_get().adoption_stage
    if adoption is None:
        return None
    return Stage.objects.filter(order__lt=adoption.order).order_by("-order").first()


@transaction.atomic
def starter_playbooks_load(*, activate: bool = False) -> StarterLoad:
    """Create the starter playbooks that are not there yet (inactive unless ``activate``)."""
    result = StarterLoad()
    stages = {"onboarding": _onboarding_stage()}
    for spec in starter_library():
        name = spec["name"]
        playbook = Playbook.objects.select_for_update().filter(name=name).first()
        if playbook is not None:
            result.existing.append(name)
            if activate and not playbook.active:
                Playbook.objects.filter(pk=playbook.pk).update(active=True)
                result.activated.append(name)
            continue
        missing = [c["stage"] for c in spec["conditions"] if "stage" in c and stages.get(c["stage"]) is None]
        if missing:
            result.skipped[name] = f"no {missing[0]} stage (set the adoption stage in the journey settings)"
            continue
        playbook = Playbook.objects.create(
            name=name,
            description=spec.get("description", ""),
            segment=spec.get("segment", ""),
            active=activate,
        )
        PlaybookCondition.objects.bulk_create(
            PlaybookCondition(
                playbook=playbook,
                trigger=condition["trigger"],
                threshold=condition.get("threshold"),
                days=condition.get("days"),
                stage=stages.get(condition["stage"]) if "stage" in condition else None,
            )
            for condition in spec["conditions"]
        )
        PlaybookStep.objects.bulk_create(
            PlaybookStep(playbook=playbook, order=order, **step) for order, step in enumerate(spec["steps"], start=1)
        )
        result.created.append(name)
    return result
