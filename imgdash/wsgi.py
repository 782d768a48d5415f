"""WSGI entry point: gunicorn imgdash.wsgi."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imgdash.settings")
application = get_wsgi_application()
