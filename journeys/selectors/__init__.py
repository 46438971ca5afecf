"""Reads of the journeys app, one module per area: journey, tasks, playbooks, surveys, accounts (the account panel)."""
