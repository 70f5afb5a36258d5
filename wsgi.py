"""The WSGI app for gunicorn: `gunicorn -c gunicorn.conf.py` (gevent workers patch before importing this)."""

from leancoffee.factory import create_app, tune_garbage_collector
from leancoffee.webhooks import sender

application = create_app()
sender.start(application)  # this worker's webhook sender (WEBHOOKS_SENDER=off: none)
tune_garbage_collector()
