"""Save the current filters of a list page under a name, or delete a saved view (the user's own only)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ..forms import SavedViewForm
from ..services import saved_view_delete, saved_view_save


def _page_url(page: str, querystring: str = "") -> str:
    url = reverse(f"web:{page}")
    return f"{url}?{querystring}" if querystring else url


@login_required
@require_POST
def saved_view_create(request):
    form = SavedViewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The view was not saved: give it a name."))
        return redirect(_page_url(form.data.get("page") if form.data.get("page") in form.pages else "portfolio"))
    view = saved_view_save(user_id=request.user.pk, **form.cleaned_data)
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return redirect(_page_url(view.page, view.querystring))


@login_required
@require_POST
def saved_view_remove(request, pk: int):
    page = request.POST.get("page", "portfolio")
    if not saved_view_delete(user_id=request.user.pk, saved_view_id=pk):
        raise Http404
    messages.success(request, _("Saved view deleted."))
    return redirect(_page_url(page if page in SavedViewForm.pages else "portfolio"))
