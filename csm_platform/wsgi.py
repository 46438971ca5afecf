"""
WSGI config for csm_platform project: the entry point of a server (gunicorn ``csm_platform.wsgi:application``).

It exposes the WSGI callable as a module-level variable named ``application``. Without ``DJANGO_SETTINGS_MODULE``
it serves the production settings (no debug, secrets required), never the local ones; ``manage.py`` keeps the
local default for a laptop.

For more information on this file, see
https://docs.djangoproject.com/en/5.2/howto/deployment/wsgi/
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csm_platform.settings.production")

application = get_wsgi_application()
