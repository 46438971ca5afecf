"""The Django admin of the accounts app: customers and people (``core``), usage and ingestion (``usage``)."""

from . import core, usage

__all__ = ["core", "usage"]
