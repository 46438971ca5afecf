"""The apps' own Korean catalogs (``<app>/locale/ko/LC_MESSAGES/django.po``): every entry translated, none fuzzy,
placeholders kept (the rules of ``manage.py catalogs check``), and every string the app's Python code marks is in its
catalog (``makemessages`` was run after the last marked string)."""

import shutil
import subprocess
from pathlib import Path

import polib
import pytest
from django.conf import settings

from csm_platform.web.management.commands.catalogs import problems

APPS = ("accounts", "health", "journeys")
# The keywords ``makemessages`` gives xgettext for Python files (django.core.management.commands.makemessages).
KEYWORDS = (
    "gettext_noop",
    "gettext_lazy",
    "ngettext_lazy:1,2",
    "pgettext:1c,2",
    "npgettext:1c,2,3",
    "pgettext_lazy:1c,2",
    "npgettext_lazy:1c,2,3",
)


def catalog(app: str) -> polib.POFile:
    return polib.pofile(str(Path(settings.BASE_DIR) / app / "locale" / "ko" / "LC_MESSAGES" / "django.po"))


@pytest.mark.parametrize("app", APPS)
def test_every_entry_is_translated_and_none_is_fuzzy(app):
    po = catalog(app)
    assert po.metadata["Language"] == "ko"
    assert not po.metadata_is_fuzzy
    assert len(po) > 50
    assert problems(po) == []


@pytest.mark.parametrize("app", APPS)
def test_fixed_terms_are_used(app):
    """헬스 스코어 everywhere, never 건강 점수 (the choice the project catalog makes too)."""
    texts = [entry.msgstr for entry in catalog(app)]
    assert not [text for text in texts if "건강 점수" in text]


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="xgettext (GNU gettext) is not installed")
@pytest.mark.parametrize("app", APPS)
def test_every_marked_string_of_the_app_is_in_its_catalog(app):
    root = Path(settings.BASE_DIR) / app
    files = sorted(
        str(path.relative_to(root)) for path in root.rglob("*.py") if "migrations" not in path.relative_to(root).parts
    )
    extracted = subprocess.run(
        ["xgettext", "--language=Python", "--from-code=UTF-8", "--output=-", *(f"--keyword={k}" for k in KEYWORDS)]
        + files,
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    marked = {(entry.msgctxt, entry.msgid) for entry in polib.pofile(extracted)}
    known = {(entry.msgctxt, entry.msgid) for entry in catalog(app) if not entry.obsolete}
    assert sorted(marked - known, key=str) == [], f"run makemessages -l ko in {app}/"
