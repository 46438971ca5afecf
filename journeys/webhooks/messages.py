"""One line of text per event, for Slack-compatible endpoints: ``{"text": ...}`` is the body Slack's and Microsoft
Teams' incoming webhooks both accept. Links are bare URLs, which both turn into links."""

from ..models import EventKind


def event_text(*, kind: str, payload: dict) -> str:
    account = payload.get("account") or {}
    name, url = account.get("name", ""), account.get("url", "")
    if kind == EventKind.HEALTH_BAND_CHANGED:
        score = f" (score {payload['health']})" if payload.get("health") is not None else ""
        line = (
            f"Health of {name} went from {payload['previous_band']} to {payload['band']}{score} on {payload['as_of']}."
        )
    elif kind == EventKind.RISK_BAND_CHANGED:
        probability = payload.get("churn_probability")
        chance = f" ({probability:.0%} chance of churn)" if probability is not None else ""
        line = (
            f"Churn risk of {name} went from {payload['previous_risk_band']} to {payload['risk_band']}{chance} "
            f"on {payload['as_of']}."
        )
    elif kind == EventKind.RENEWAL_WINDOW_ENTERED:
        line = f"{name} renews on {payload['renews_on']}, in {payload['days_left']} days."
    elif kind == EventKind.PLAYBOOK_FIRED:
        line = f'Playbook "{payload["playbook"]["name"]}" fired for {name} on {payload["as_of"]}.'
    elif kind == EventKind.TASK_OVERDUE:
        task = payload["task"]
        owner = task.get("owner") or "the pooled queue"
        line = f'Task "{task["title"]}" for {name} was due on {task["due_date"]} ({owner}).'
    elif kind == EventKind.IMPORT_FINISHED:
        counts = f"created {payload.get('created')}, updated {payload.get('updated')}"
        line = (
            f"Import of {payload.get('kind')} from {payload.get('file_name')} finished: {counts}, "
            f"unchanged {payload.get('unchanged')}."
        )
    else:
        raise ValueError(f"No text for the event kind {kind!r}.")
    return f"{line} {url}" if url else line
