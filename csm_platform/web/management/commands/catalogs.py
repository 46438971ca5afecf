"""The translation catalogs, without system gettext: ``compile`` writes each ``.po`` beside it as ``.mo`` (the install
step; ``.mo`` files are not committed) and ``check`` fails on any untranslated or fuzzy entry, or a translation that
drops or invents a placeholder (CI).

The catalogs are the project's (``LOCALE_PATHS``) and each of our apps' ``locale/`` directory (never the installed
packages', which ship their own ``.mo`` files).
"""

import re
from pathlib import Path

import polib
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

# %(name)s, %s, %d and {name}: what the code fills in, which a translation must keep.
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sdfr]|%[sdfr]|\{[a-z_]*\}")


def catalog_paths() -> list[Path]:
    roots = [Path(path) for path in settings.LOCALE_PATHS]
    base = Path(settings.BASE_DIR)
    ours = [Path(app.path) for app in apps.get_app_configs()]
    roots += [path / "locale" for path in ours if path.is_relative_to(base) and "site-packages" not in path.parts]
    return sorted({po for root in roots if root.is_dir() for po in root.glob("*/LC_MESSAGES/*.po")})


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def problems(catalog: polib.POFile) -> list[str]:
    found = []
    for entry in catalog:
        if entry.obsolete:
            continue
        label = f"line {entry.linenum}: {entry.msgid!r}"
        if "fuzzy" in entry.flags:
            found.append(f"{label} is fuzzy")
        elif not entry.translated():
            found.append(f"{label} is untranslated")
        elif entry.msgid_plural:
            wanted = placeholders(entry.msgid_plural)
            found += [
                f"{label} [{n}] has {placeholders(text)}, not {wanted}"
                for n, text in entry.msgstr_plural.items()
                if placeholders(text) != wanted
            ]
        elif placeholders(entry.msgstr) != placeholders(entry.msgid):
            found.append(f"{label} has {placeholders(entry.msgstr)}, not {placeholders(entry.msgid)}")
    return found


class Command(BaseCommand):
    help = "Compile the translation catalogs (.po → .mo), or check that every entry is translated."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["compile", "check"])

    def handle(self, *args, action: str, **options):
        paths = catalog_paths()
        if action == "compile":
            for path in paths:
                polib.pofile(str(path)).save_as_mofile(str(path.with_suffix(".mo")))
            self.stdout.write(f"Compiled {len(paths)} catalogs.")
            return
        failures = [
            f"{path.relative_to(settings.BASE_DIR)} {problem}"
            for path in paths
            for problem in problems(polib.pofile(str(path)))
        ]
        if failures:
            raise CommandError("Catalog entries to translate:\n" + "\n".join(failures))
        self.stdout.write(f"{len(paths)} catalogs, every entry translated.")
