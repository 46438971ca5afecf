"""What other apps add to the demo, without ``accounts`` knowing them: an app registers its steps in its
``AppConfig.ready`` (``register_demo_step``), ``demo_load`` runs each ``load`` step once the book is written, and
``manage.py load_demo --after-backfill`` runs each ``after_backfill`` step once the nightly backfill has run (what
the nights made, e.g. playbook tasks, is then worked on as a team would have).

A ``load`` step gets the ``DemoBook``: the written accounts with their plans (trajectories, contracts, contacts),
the demo users, the evaluation date, the days of recent usage, and random generators of its own drawn from the
seed and a name, so that the steps stay deterministic whatever the others do. An ``after_backfill`` step gets the
seed and the date and must be idempotent. Both return counts (label: rows) for the loader's summary.
"""

import datetime as dt
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..models import User
from .book import Plan


@dataclass(frozen=True)
class DemoBook:
    seed: int
    as_of: dt.date
    days: int  # days of recent usage
    plans: list[Plan]
    users: dict[str, User]  # by username

    def rng(self, name: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, zlib.crc32(name.encode())])


LoadStep = Callable[[DemoBook], dict[str, int]]
AfterBackfillStep = Callable[..., dict[str, int]]  # (*, seed: int, as_of: dt.date)


@dataclass(frozen=True)
class DemoStep:
    name: str
    load: LoadStep | None
    after_backfill: AfterBackfillStep | None


DEMO_STEPS: list[DemoStep] = []


def register_demo_step(
    name: str, *, load: LoadStep | None = None, after_backfill: AfterBackfillStep | None = None
) -> None:
    """Add an app's demo steps (registering the same name again replaces them)."""
    DEMO_STEPS[:] = [step for step in DEMO_STEPS if step.name != name]
    DEMO_STEPS.append(DemoStep(name=name, load=load, after_backfill=after_backfill))


def demo_steps_load(*, book: DemoBook) -> dict[str, int]:
    counts: dict[str, int] = {}
    for step in DEMO_STEPS:
        if step.load is not None:
            counts.update(step.load(book))
    return counts


def demo_steps_after_backfill(*, seed: int, as_of: dt.date) -> dict[str, int]:
    counts: dict[str, int] = {}
    for step in DEMO_STEPS:
        if step.after_backfill is not None:
            counts.update(step.after_backfill(seed=seed, as_of=as_of))
    return counts
