"""The WSGI app for gunicorn: `gunicorn -c gunicorn.conf.py` (gevent workers patch before importing this)."""

from leancoffee.factory import create_app, tune_garbage_collector

application = create_app()
tune_garbage_collector()
