"""Composition reads for the pages: each module reads accounts, health and journeys set-based, never per row."""
