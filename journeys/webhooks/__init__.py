"""Outgoing webhooks: events of the platform sent, signed, to the endpoints admins register (docs/integration-guide.md,
"Outgoing webhooks"). ``selectors`` finds the nightly events, ``services`` records them and delivers them,
``messages`` words them for Slack and Teams, ``admin`` holds the screens."""
