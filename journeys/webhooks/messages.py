"""One line of text per event, for Slack-compatible endpoints: ``{"text": ...}`` is the body Slack's and Microsoft
Teams' incoming webhooks both accept. Links are bare URLs, which both turn into links. The text is in the active
language: the workspace default where Celery sends it."""

from django.utils.translation import gettext as _

from ..models import EventKind


def event_text(*, kind: str, payload: dict) -> str:
    account = payload.get("account") or {}
    name, url = account.get("name", ""), account.get("url", "")
    if kind == EventKind.HEALTH_BAND_CHANGED:
        words = {
            "account": name,
            "previous": payload["previous_band"],
            "band": payload["band"],
            "day": payload["as_of"],
        }
        if payload.get("health") is not None:
            line = _("Health of %(account)s went from %(previous)s to %(band)s (score %(score)s) on %(day)s.") % {
                **words,
                "score": payload["health"],
            }
        else:
            line = _("Health of %(account)s went from %(previous)s to %(band)s on %(day)s.") % words
    elif kind == EventKind.RISK_BAND_CHANGED:
        probability = payload.get("churn_probability")
        words = {
            "account": name,
            "previous": payload["previous_risk_band"],
            "band": payload["risk_band"],
            "day": payload["as_of"],
        }
        if probability is not None:
            line = _(
                "Churn risk of %(account)s went from %(previous)s to %(band)s (%(chance)s chance of churn) on %(day)s."
            ) % {**words, "chance": f"{probability:.0%}"}
        else:
            line = _("Churn risk of %(account)s went from %(previous)s to %(band)s on %(day)s.") % words
    elif kind == EventKind.RENEWAL_WINDOW_ENTERED:
        line = _("%(account)s renews on %(day)s, in %(days)s days.") % {
            "account": name,
            "day": payload["renews_on"],
            "days": payload["days_left"],
        }
    elif kind == EventKind.PLAYBOOK_FIRED:
        line = _('Playbook "%(playbook)s" fired for %(account)s on %(day)s.') % {
            "playbook": payload["playbook"]["name"],
            "account": name,
            "day": payload["as_of"],
        }
    elif kind == EventKind.TASK_OVERDUE:
        task = payload["task"]
        line = _('Task "%(task)s" for %(account)s was due on %(day)s (%(owner)s).') % {
            "task": task["title"],
            "account": name,
            "day": task["due_date"],
            "owner": task.get("owner") or _("the pooled queue"),
        }
    elif kind == EventKind.IMPORT_FINISHED:
        line = _(
            "Import of %(kind)s from %(file)s finished: created %(created)s, updated %(updated)s, "
            "unchanged %(unchanged)s."
        ) % {
            "kind": payload.get("kind"),
            "file": payload.get("file_name"),
            "created": payload.get("created"),
            "updated": payload.get("updated"),
            "unchanged": payload.get("unchanged"),
        }
    else:
        raise ValueError(f"No text for the event kind {kind!r}.")
    return f"{line} {url}" if url else line
