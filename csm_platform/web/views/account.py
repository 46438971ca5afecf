"""Account 360 (read by every role), logging an activity (those who may edit the account), the churn model card."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Account
from accounts.services import activity_create
from health.models import ChurnModelVersion

from .. import charts
from ..forms import ActivityForm
from ..selectors.account import account_360
from .dates import page_dates


def _account_page(request, pk: int, *, form: ActivityForm | None = None, status: int = 200):
    as_of, today = page_dates(request)
    try:
        page = account_360(user=request.user, pk=pk, as_of=as_of, today=today)
    except Account.DoesNotExist as missing:
        raise Http404(_("No such account.")) from missing
    can_edit = Account.objects.editable_by(request.user).filter(pk=pk).exists()
    can_forecast = Account.objects.forecast_editable_by(request.user).filter(pk=pk).exists()
    context = {
        "page": page,
        "account": page.account,
        "can_edit": can_edit,
        "can_forecast": can_forecast,
        "form": form or (ActivityForm(account_id=pk) if can_edit else None),
        "charts": {
            "health": charts.health_history(page.health_history),
            "daily_users": charts.daily_active_users(page.daily_usage),
            "features": charts.events_by_feature(page.features),
            "seats": charts.seats_vs_users(page.seats_vs_users),
            "acv": charts.acv_history(page.acv_history),
        },
    }
    return render(request, "web/account.html", context, status=status)


@login_required
@require_GET
def account_detail(request, pk: int):
    return _account_page(request, pk)


@login_required
@require_POST
def activity_log(request, pk: int):
    """Log a call, meeting, email or note: only on an account the user may edit (403 otherwise)."""
    get_object_or_404(Account.objects.visible_to(request.user), pk=pk)
    if not Account.objects.editable_by(request.user).filter(pk=pk).exists():
        raise PermissionDenied
    form = ActivityForm(request.POST, account_id=pk)
    if not form.is_valid():
        return _account_page(request, pk, form=form, status=400)
    data = form.cleaned_data
    activity_create(
        account_id=pk,
        kind=data["kind"],
        author_id=request.user.pk,
        occurred_at=data["occurred_at"],
        subject=data["subject"],
        body=data["body"],
        contact_id=data["contact"].pk if data["contact"] else None,
    )
    messages.success(request, _("Activity logged."))
    return redirect(f"{reverse('web:account', args=[pk])}#timeline")


@login_required
@require_GET
def churn_model_card(request, pk: int):
    model = get_object_or_404(ChurnModelVersion.objects.defer("model"), pk=pk)
    return render(request, "web/churn_model.html", {"model": model, "card": model.card})
