"""Stripe subscriptions as contracts: the signed webhook (``views``) and the backfill command call ``services``."""
