"""A page's first load stays under 600 KB compressed: the Plotly partial bundle, served pre-compressed (brotli and
gzip, WhiteNoise's compressed manifest storage in production) under far-future-cached hashed names."""

import gzip
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from csm_platform.settings import base

pytestmark = pytest.mark.django_db

FIRST_LOAD_LIMIT = 600 * 1024


def test_production_serves_hashed_precompressed_static_files():
    backend = base.STORAGES["staticfiles"]["BACKEND"]  # production keeps the base storage
    assert backend == "whitenoise.storage.CompressedManifestStaticFilesStorage"  # .br and .gz, cached forever


def test_the_heaviest_page_loads_under_600_kb_compressed(client, edna):
    client.force_login(edna)
    page = client.get(reverse("web:leadership")).content
    assets = {asset.decode() for asset in re.findall(rb'(?:src|href)="/static/([^"?]+)"', page)}
    assert any("plotly-finance" in asset for asset in assets)

    # gzip -9, what WhiteNoise writes next to each file for clients without brotli (its brotli copy is smaller).
    sizes = {asset: len(gzip.compress(Path(finders.find(asset)).read_bytes(), 9)) for asset in assets}
    total = len(gzip.compress(page)) + sum(sizes.values())

    assert total <= FIRST_LOAD_LIMIT, sizes


def test_only_the_partial_plotly_bundle_ships():
    vendor = Path(__file__).resolve().parents[2] / "static" / "vendor" / "plotly"
    assert sorted(p.name for p in vendor.glob("*.js")) == ["plotly-finance.min.js"]
