"""Integrations that bring outside systems' records into accounts (Stripe: ``stripe/``)."""
