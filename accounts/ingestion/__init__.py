"""Ingestion of product usage through a Segment-compatible HTTP Tracking API (``services.py`` has the mapping)."""
