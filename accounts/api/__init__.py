"""The REST API of accounts, contacts, contracts and usage events (Django REST framework)."""
