"""The user's own preferences: their time zone (times are entered and shown in it)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ..forms import TimeZoneForm


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    form = TimeZoneForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Time zone set to %(zone)s.") % {"zone": form.cleaned_data["time_zone"]})
        return redirect("web:preferences")
    return render(request, "web/preferences.html", {"form": form}, status=400 if form.is_bound else 200)
