"""Every night's AccountSnapshot against the reference: ACV to the cent, each measure's x and s and exact
contribution in the receipt, the health score rounded half-up and its band, the 30-day trend."""

import math

import pytest

from health.models import AccountSnapshot

from . import reference
from .book import LATEST, NIGHTS

each_night = pytest.mark.parametrize("night", NIGHTS, ids=str)

USAGE_INPUTS = {
    "usage_trend": ("events_30", "events_prev_30"),
    "license_utilization": ("mau", "seats"),
    "feature_breadth": ("key_features_used", "key_features_total"),
    "stickiness": ("dau", "mau"),
}


def snapshots(night) -> dict[int, AccountSnapshot]:
    return {s.account_id: s for s in AccountSnapshot.objects.filter(as_of=night)}


def close(stored, expected) -> bool:
    if expected is None or stored is None:
        return stored is None and expected is None
    return math.isclose(stored, float(expected), rel_tol=1e-9, abs_tol=1e-9)


@each_night
def test_every_account_is_scored(book, night):
    assert set(snapshots(night)) == set(book.ids.values())


@each_night
def test_acv_to_the_cent(book, facts, night):
    stored = {a: s.acv for a, s in snapshots(night).items()}
    expected = {a: reference.cents(reference.account_acv(facts, a, night)) for a in book.ids.values()}
    assert stored == expected


@each_night
def test_measure_inputs_and_scores(book, facts, night):
    mismatches = []
    for account_id, snapshot in snapshots(night).items():
        ref = reference.health(facts, account_id, night)
        for line in snapshot.measures:
            key = line["key"]
            if not (close(line["x"], ref.x[key]) and close(line["s"], ref.s[key])):
                mismatches.append((account_id, key, line["x"], line["s"], ref.x[key], ref.s[key]))
            for name in USAGE_INPUTS.get(key, ()):
                if not close(line["inputs"].get(name), ref.usage[name]):
                    mismatches.append((account_id, key, name, line["inputs"].get(name), ref.usage[name]))
    assert mismatches == []


@each_night
def test_engagement_receipt_says_never_touched(book, facts, night):
    """The receipt's last touch is the touch day, or empty for an account never touched (counted from the first
    contract's start)."""
    for account_id, snapshot in snapshots(night).items():
        line = next(m for m in snapshot.measures if m["key"] == "engagement")
        touched = reference.last_touch(facts, account_id, night)
        assert line["inputs"].get("last_touch") == (touched.isoformat() if touched else None), account_id


@each_night
def test_exact_contributions_add_up(book, facts, night):
    """Each measure's contribution w̃·s is exact in the receipt (N/A measures: weight 0, renormalized)."""
    for account_id, snapshot in snapshots(night).items():
        ref = reference.health(facts, account_id, night)
        for line in snapshot.measures:
            assert close(line["contribution"] or 0.0, ref.contribution[line["key"]]), (account_id, line["key"])


@each_night
def test_health_rounded_half_up_and_banded(book, facts, night):
    stored = {a: (s.health, s.band) for a, s in snapshots(night).items()}
    expected = {a: (ref.score, ref.band) for a in stored for ref in [reference.health(facts, a, night)]}
    assert stored == expected


def test_scores_on_the_band_edges(book, facts):
    """44 of 100 seats active etc. give exactly 40 (yellow, never red) and the other edge exactly 70 (green)."""
    night = LATEST
    edges = {"EDGE40": (40, "yellow"), "EDGE70": (70, "green")}
    for external_id, (value, band) in edges.items():
        account_id = book.ids[external_id]
        assert reference.health(facts, account_id, night).exact == value
        snapshot = AccountSnapshot.objects.get(account_id=account_id, as_of=night)
        assert (snapshot.health, snapshot.band) == (value, band)
