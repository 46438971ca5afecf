"""Reads of spreadsheet imports: which mapping to use, saved mappings, the history of runs."""

import json
from pathlib import Path

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from ..models import ImportMapping, ImportRun
from .kinds import kind_spec
from .presets import PRESETS


class MappingNotFound(ValueError):
    pass


def _normalised(name: str) -> str:
    return name.strip().lower().replace(" ", "_")


def mapping_suggest(*, kind: str, header: list[str]) -> dict[str, str]:
    """A first mapping of ``header``: a column named like a field maps to it (the export's own header), else to
    what a built-in preset maps it to; the rest is ignored ("")."""
    spec = kind_spec(kind)
    fields = {_normalised(name): name for name in spec.fields}
    presets = [preset.get(kind, {}) for preset in PRESETS.values()]
    suggested, taken = {}, set()
    for column in header:
        target = fields.get(_normalised(column)) or next((p[column] for p in presets if p.get(column)), "")
        suggested[column] = "" if target in taken else target
        taken.add(target)
    return suggested


def mapping_resolve(*, kind: str, name_or_path: str | None, header: list[str]) -> dict[str, str]:
    """The mapping named by ``name_or_path``: a JSON file ``{"source column": "field"}``, a built-in preset
    (``salesforce``, ``hubspot``) or a saved mapping of ``kind``; without one, ``mapping_suggest``."""
    if not name_or_path:
        return mapping_suggest(kind=kind, header=header)
    path = Path(name_or_path)
    if path.suffix.lower() == ".json" or path.is_file():
        try:
            columns = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise MappingNotFound(
                _("%(name)s: not a readable JSON mapping (%(error)s)") % {"name": name_or_path, "error": error}
            ) from None
        if not isinstance(columns, dict) or not all(isinstance(v, str | None) for v in columns.values()):
            raise MappingNotFound(
                _('%(name)s: a mapping is an object {"source column": "field"}') % {"name": name_or_path}
            )
        return {str(column): target or "" for column, target in columns.items()}
    if name_or_path.lower() in PRESETS:
        preset = PRESETS[name_or_path.lower()]
        if kind not in preset:
            raise MappingNotFound(
                _("the %(preset)s preset has no mapping for %(kind)s") % {"preset": name_or_path, "kind": kind}
            )
        return dict(preset[kind])
    saved = ImportMapping.objects.filter(kind=kind, name=name_or_path).first()
    if saved is None:
        raise MappingNotFound(
            _("no JSON file, preset or saved %(kind)s mapping is named %(name)r") % {"kind": kind, "name": name_or_path}
        )
    return dict(saved.columns)


def import_mapping_list(*, kind: str) -> QuerySet[ImportMapping]:
    return ImportMapping.objects.filter(kind=kind).order_by("name")


def import_run_list(*, limit: int = 50) -> QuerySet[ImportRun]:
    """Applied and undone imports, newest first, with who ran them."""
    return (
        ImportRun.objects.exclude(status=ImportRun.Status.PENDING)
        .select_related("created_by")
        .defer("content", "changes")
        .order_by("-applied_at", "-id")[:limit]
    )


def import_run_undoable_ids() -> set[int]:
    """The latest applied run of each kind (the only ones an undo may be asked for)."""
    latest = {}
    for pk, kind in (
        ImportRun.objects.filter(status=ImportRun.Status.APPLIED).order_by("applied_at").values_list("pk", "kind")
    ):
        latest[kind] = pk
    return set(latest.values())
