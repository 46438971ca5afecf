"""The documentation stands alone: no tracked file points outside the repository for a definition, and the MkDocs
site builds in strict mode (a broken link, a missing anchor or a page left out of the nav fails it)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Built from parts so that this file does not match itself.
OUTSIDE_REFERENCES = ("../" + "shared", "DOMAIN" + ".md")
NOT_SHIPPED = (".ci/",)  # CI's own scripts run beside the internal notes; they are not the project's documentation


def tracked_files() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the tracked files cannot be listed")
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
    ).stdout.decode()
    return [name for name in listing.split("\0") if name and not name.startswith(NOT_SHIPPED)]


def test_no_tracked_file_refers_to_notes_outside_the_repository():
    needles = [reference.encode() for reference in OUTSIDE_REFERENCES]
    offenders = []
    for name in tracked_files():
        path = ROOT / name
        if not path.is_file():  # deleted in the work tree, not yet committed
            continue
        for number, line in enumerate(path.read_bytes().splitlines(), start=1):
            if any(needle in line for needle in needles):
                offenders.append(f"{name}:{number}: {line.decode(errors='replace').strip()}")
    assert not offenders, (
        "These lines point at notes a person who clones the project does not have; point at the docs/ page that "
        "states the rule instead:\n" + "\n".join(offenders)
    )


def test_the_documentation_builds_in_strict_mode(tmp_path):
    mkdocs = Path(sys.executable).with_name("mkdocs")
    if not mkdocs.exists():
        pytest.skip(f"mkdocs is not installed beside {sys.executable} (it is in the dev extra: make install)")
    result = subprocess.run(
        [str(mkdocs), "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    assert (tmp_path / "index.html").is_file()
    assert (tmp_path / "concepts" / "health-score.html").is_file()
