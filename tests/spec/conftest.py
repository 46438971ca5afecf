"""The spec book, built once for the package inside a transaction that is rolled back at the end, and its nights.

The nights are produced by the platform (``health.pipeline.recompute``); everything the tests expect comes from
``tests.spec.reference``, which reads only raw rows.
"""

import pytest
import time_machine
from django.db import transaction

from health.pipeline import recompute

from . import reference
from .book import NIGHTS, NOW, build_book


@pytest.fixture(scope="package")
def spec_book(django_db_setup, django_db_blocker):
    """The book and its nights, committed to nothing: every row is rolled back after the package."""
    with django_db_blocker.unblock(), time_machine.travel(NOW, tick=False):
        block = transaction.atomic()
        block.__enter__()
        try:
            book = build_book()
            runs = {night: recompute(as_of=night) for night in NIGHTS}
            yield book, runs
        finally:
            transaction.set_rollback(True)
            block.__exit__(None, None, None)


@pytest.fixture(scope="package")
def facts(spec_book, django_db_blocker):
    with django_db_blocker.unblock():
        return reference.load_facts()


@pytest.fixture
def book(spec_book, db):
    return spec_book[0]


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW
