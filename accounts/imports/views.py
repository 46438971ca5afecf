"""The import pages (admins and CS managers): upload, map columns, preview, apply; the history with undo."""

import io

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from csm_platform.web.permissions import role_required

from ..models import ImportRun
from ..roles import Role
from . import selectors, services
from .forms import MappingForm, UploadForm
from .presets import PRESETS
from .tables import TableError, table_open

IMPORT_ROLES = (Role.ADMIN, Role.MANAGER)
PREVIEW_ERRORS_SHOWN = 500


@role_required(*IMPORT_ROLES)
def import_start(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            run = services.import_upload(
                kind=form.cleaned_data["kind"], file=upload, file_name=upload.name, user_id=request.user.pk
            )
        except TableError as error:
            form.add_error("file", str(error))
        else:
            return redirect("imports:run", pk=run.pk)
    return render(
        request,
        "imports/start.html",
        {"form": form, "runs": selectors.import_run_list(), "undoable": selectors.import_run_undoable_ids()},
    )


@role_required(*IMPORT_ROLES)
def import_run(request, pk: int):
    run = get_object_or_404(ImportRun, pk=pk, status=ImportRun.Status.PENDING)
    header = table_open(file=io.BytesIO(run.content), file_name=run.file_name).header
    chosen = request.GET.get("mapping", "")
    try:
        initial = selectors.mapping_resolve(kind=run.kind, name_or_path=chosen or None, header=header)
    except selectors.MappingNotFound as error:
        messages.error(request, str(error))
        initial = selectors.mapping_suggest(kind=run.kind, header=header)
    form = MappingForm(request.POST or None, kind=run.kind, header=header, initial_columns=initial)
    plan = None
    if request.method == "POST" and form.is_valid():
        columns = form.columns()
        if form.cleaned_data["save_as"]:
            services.import_mapping_save(
                kind=run.kind, name=form.cleaned_data["save_as"], columns=columns, user_id=request.user.pk
            )
        if "apply" in request.POST:
            try:
                applied = services.import_apply(
                    kind=run.kind,
                    file=io.BytesIO(run.content),
                    file_name=run.file_name,
                    columns=columns,
                    user_id=request.user.pk,
                    run_id=run.pk,
                    user=request.user,
                )
            except services.ImportRefused as refused:
                messages.error(request, _("Nothing was imported: %(n)d errors.") % {"n": len(refused.errors)})
            else:
                messages.success(request, _("Imported: %(summary)s.") % {"summary": _summary(applied)})
                return redirect("imports:start")
        plan = services.import_preview(
            kind=run.kind, file=io.BytesIO(run.content), file_name=run.file_name, columns=columns, user=request.user
        )
    return render(
        request,
        "imports/run.html",
        {
            "run": run,
            "form": form,
            "plan": plan,
            "errors": plan.errors[:PREVIEW_ERRORS_SHOWN] if plan else [],
            "presets": [name for name, kinds in PRESETS.items() if run.kind in kinds],
            "saved": selectors.import_mapping_list(kind=run.kind),
            "chosen": chosen,
        },
    )


@role_required(*IMPORT_ROLES)
@require_POST
def import_undo(request, pk: int):
    get_object_or_404(ImportRun, pk=pk)
    try:
        run = services.import_undo(run_id=pk)
    except services.ImportRefused as refused:
        messages.error(request, " ".join(error.reason for error in refused.errors))
    else:
        messages.success(request, _("Undone: %(run)s.") % {"run": run})
    return redirect("imports:start")


def _summary(run: ImportRun) -> str:
    return _("created %(created)s, updated %(updated)s, unchanged %(unchanged)s") % {
        "created": run.created,
        "updated": run.updated,
        "unchanged": run.unchanged,
    }
