"""The Django admin of the accounts app: customers and people (``core``), usage and ingestion (``usage``), Stripe's
customers and events (``accounts.integrations.stripe.admin``)."""

from ..integrations.stripe import admin as stripe
from . import core, usage

__all__ = ["core", "stripe", "usage"]
