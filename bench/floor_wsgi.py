"""The floor as a WSGI app for gunicorn (`bench.floor_wsgi:application`, on DATABASE_URL): the same worker as the app's."""

import os

from bench.floor_server import create_floor
from leancoffee.factory import tune_garbage_collector

application = create_floor(os.environ["DATABASE_URL"])
tune_garbage_collector()
