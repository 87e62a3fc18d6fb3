"""WSGI entry point for servers: ``gunicorn -w 4 -b 127.0.0.1:8000 wsgi:app``."""

import gc

from portal import create_app

app = create_app()
# The app's long-lived objects (routes, templates, catalogs, mappers) never become garbage:
# keep the collector from walking them again on every collection of every request.
gc.freeze()
