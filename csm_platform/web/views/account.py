"""Account 360 (read by every role) and the account's own data for those who may edit it
(``Account.objects.editable_by``): logging, changing and deleting activities (their author only), contacts and their
roles, owner and AE reassignment (``accounts.managers.assignment_errors``); the timeline fragment; the churn model
card."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Account, Activity, Contact
from accounts.roles import has_any_role
from accounts.services import (
    account_assign,
    activity_create,
    activity_delete,
    activity_update,
    contact_create,
    contact_update,
)
from health.models import ChurnModelVersion

from .. import charts
from ..forms import ActivityForm, AssignForm, ContactForm
from ..selectors.account import account_360
from ..selectors.timeline import KINDS, account_timeline
from .dates import latest_night_shown, page_dates
from .portfolio import ASSIGNERS


def _editable(request, pk: int) -> Account:
    """The account, if the user may read it (404) and change it (403)."""
    account = get_object_or_404(Account.objects.visible_to(request.user), pk=pk)
    if not Account.objects.editable_by(request.user).filter(pk=pk).exists():
        raise PermissionDenied
    return account


def _account_page(request, pk: int, *, status: int = 200, **forms):
    as_of, today = page_dates(request)
    try:
        latest = latest_night_shown(request, as_of)
        page = account_360(user=request.user, pk=pk, as_of=as_of, today=today, latest=latest)
    except Account.DoesNotExist as missing:
        raise Http404(_("No such account.")) from missing
    can_edit = Account.objects.editable_by(request.user).filter(pk=pk).exists()
    can_forecast = Account.objects.forecast_editable_by(request.user).filter(pk=pk).exists()
    can_assign = can_edit and has_any_role(request.user, ASSIGNERS)
    context = {
        "page": page,
        "account": page.account,
        "timeline": _timeline_of(request, pk),
        "timeline_kinds": KINDS,
        "can_edit": can_edit,
        "can_forecast": can_forecast,
        "form": forms.get("form") or (ActivityForm(account_id=pk) if can_edit else None),
        "contact_form": forms.get("contact_form") or (ContactForm() if can_edit else None),
        "assign_form": forms.get("assign_form") or (AssignForm() if can_assign else None),
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


def _timeline_of(request, pk: int):
    """The page of the timeline the query asks for (``kind``, ``q``, ``page``)."""
    kind = request.GET.get("kind", "")
    page = request.GET.get("page", "1")
    return account_timeline(
        account_id=pk,
        kind=kind if kind in dict(KINDS) else "",
        q=request.GET.get("q", "").strip()[:200],
        page=int(page) if page.isdigit() else 1,
    )


@login_required
@require_GET
def timeline(request, pk: int):
    """The timeline fragment (htmx): a page of it, filtered by kind and searched."""
    account = get_object_or_404(Account.objects.visible_to(request.user), pk=pk)
    can_edit = Account.objects.editable_by(request.user).filter(pk=pk).exists()
    context = {"account": account, "timeline": _timeline_of(request, pk), "timeline_kinds": KINDS, "can_edit": can_edit}
    return render(request, "web/includes/timeline.html", context)


def _timeline_url(pk: int) -> str:
    return f"{reverse('web:account', args=[pk])}#timeline"


@login_required
@require_POST
def activity_log(request, pk: int):
    """Log a call, meeting, email, QBR or note: only on an account the user may edit (403 otherwise)."""
    _editable(request, pk)
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
    return redirect(_timeline_url(pk))


def _own_activity(request, pk: int, activity_id: int) -> Activity:
    """An activity of the account, if the user may read the account (404) and wrote it (403)."""
    get_object_or_404(Account.objects.visible_to(request.user), pk=pk)
    activity = get_object_or_404(Activity.objects.select_related("account"), pk=activity_id, account_id=pk)
    if activity.author_id != request.user.pk:
        raise PermissionDenied
    return activity


@login_required
@require_http_methods(["GET", "POST"])
def activity_edit(request, pk: int, activity_id: int):
    """Change an activity: its author only."""
    activity = _own_activity(request, pk, activity_id)
    initial = {
        "kind": activity.kind,
        "occurred_at": activity.occurred_at,
        "subject": activity.subject,
        "body": activity.body,
        "contact": activity.contact_id,
    }
    form = ActivityForm(request.POST or None, account_id=pk, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        activity_update(
            activity=activity,
            user_id=request.user.pk,
            kind=data["kind"],
            occurred_at=data["occurred_at"],
            subject=data["subject"],
            body=data["body"],
            contact_id=data["contact"].pk if data["contact"] else None,
        )
        messages.success(request, _("Activity changed."))
        return redirect(_timeline_url(pk))
    context = {"account": activity.account, "activity": activity, "form": form}
    return render(request, "web/activity_edit.html", context, status=400 if form.is_bound else 200)


@login_required
@require_POST
def activity_remove(request, pk: int, activity_id: int):
    """Delete an activity: its author only."""
    activity_delete(activity=_own_activity(request, pk, activity_id), user_id=request.user.pk)
    messages.success(request, _("Activity deleted."))
    return redirect(_timeline_url(pk))


def _contacts_url(pk: int) -> str:
    return f"{reverse('web:account', args=[pk])}#contacts"


def _model_errors(form, error: ValidationError) -> None:
    """A service's ValidationError shown on the form that caused it."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


@login_required
@require_POST
def contact_add(request, pk: int):
    """Add a person to the account, with their roles (executive sponsor, champion...)."""
    account = _editable(request, pk)
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            contact = contact_create(data={**form.cleaned_data, "account": account})
        except ValidationError as error:
            _model_errors(form, error)
        else:
            messages.success(request, _("Contact %(contact)s added.") % {"contact": contact})
            return redirect(_contacts_url(pk))
    return _account_page(request, pk, contact_form=form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def contact_edit(request, pk: int, contact_id: int):
    """Change a contact's details and roles, or deactivate them (untick "active")."""
    account = _editable(request, pk)
    contact = get_object_or_404(Contact, pk=contact_id, account_id=pk)
    form = ContactForm(request.POST or None, instance=contact)
    if request.method == "POST" and form.is_valid():
        try:
            contact_update(contact=contact, data={name: form.cleaned_data[name] for name in form.changed_data})
        except ValidationError as error:
            _model_errors(form, error)
        else:
            messages.success(request, _("Contact %(contact)s saved.") % {"contact": contact})
            return redirect(_contacts_url(pk))
    context = {"account": account, "contact": contact, "form": form}
    return render(request, "web/contact_edit.html", context, status=400 if form.is_bound else 200)


@login_required
@require_POST
def account_reassign(request, pk: int):
    """A new CSM and/or AE for this account (managers within their team, admins anyone)."""
    _editable(request, pk)
    if not has_any_role(request.user, ASSIGNERS):
        raise PermissionDenied
    form = AssignForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        changes = {name: data[name] for name in ("owner", "account_executive") if data[name] is not None}
        try:
            account_assign(user=request.user, account_ids=[pk], **changes)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Account reassigned."))
            return redirect(reverse("web:account", args=[pk]))
    return _account_page(request, pk, assign_form=form, status=400)


@login_required
@require_GET
def churn_model_card(request, pk: int):
    model = get_object_or_404(ChurnModelVersion.objects.defer("model"), pk=pk)
    return render(request, "web/churn_model.html", {"model": model, "card": model.card})
