"""The user's own preferences: their time zone (times are entered and shown in it) and language."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language

from ..forms import PreferencesForm


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    form = PreferencesForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        # The confirmation in the language just chosen (blank: the one this request already has).
        translation.activate(form.cleaned_data["language"] or translation.get_language())
        messages.success(
            request, _("Preferences saved: time zone %(zone)s.") % {"zone": form.cleaned_data["time_zone"]}
        )
        return redirect("web:preferences")
    return render(request, "web/preferences.html", {"form": form}, status=400 if form.is_bound else 200)


@require_POST
def language_switch(request):
    """The header's switcher: Django's ``set_language`` (the language cookie, then back to ``next``) and, for a
    signed-in user, their own preference, so that every device of theirs follows."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        request.user.language = language
        request.user.save(update_fields=["language"])
    return response
