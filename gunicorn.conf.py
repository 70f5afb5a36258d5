"""gunicorn settings for several gevent workers: `gunicorn -c gunicorn.conf.py` (see README, "Several workers").

With more than one worker, set REDIS_URL (changes and presence cross workers through Redis) and a
DATABASE_URL that every worker shares (PostgreSQL). Everything here can be overridden on the command
line (`-w 8 -b 0.0.0.0:8000`) or with GUNICORN_CMD_ARGS.
"""

import logging
import os
import shutil
import tempfile

from leancoffee.redaction import RedactCodes

wsgi_app = "wsgi:application"
bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gevent"
# Requests at once per worker (the default is 1000). An open board's socket is not one of them once
# its handshake is done: MAX_LIVE_SOCKETS (10,000 per worker) bounds those.
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "10000"))
# Not preloaded: each worker imports the app after gevent has patched it, so the database driver
# and Redis client wait cooperatively, and no background thread is started before the fork.
preload_app = False
timeout = 30
# SIGTERM: sockets get 1012 at once (below) and browsers reconnect to the other workers.
graceful_timeout = 10
# gunicorn's gevent worker reads every request's line and headers within `keepalive` seconds (and
# its parser refuses ambiguous framing itself): the same header timeout as `python app.py`'s.
keepalive = int(float(os.environ.get("HEADER_TIMEOUT_SECONDS", "10")))
accesslog = None  # the app logs one structured line per request itself (by route: a path holds a meeting's code)
# Should an access log be turned on anyway (--access-logfile), it names no path, query or Referer.
access_log_format = '%(h)s %(t)s "%(m)s" %(s)s %(b)s %(M)sms "%(a)s"'


# gunicorn's own lines (`Error handling request GET /m/<code>/...`, a bad request line) without the code.
logging.getLogger("gunicorn.error").addFilter(RedactCodes())

# /metrics adds up every worker's figures through prometheus_client's multiprocess mode.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="leancoffee-metrics-")


def on_starting(server):
    """Start with an empty metrics directory: files of an earlier run would be added in."""
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)


def post_worker_init(worker):
    """When the worker is told to stop, close its sockets with 1012 so browsers reconnect elsewhere."""
    import gevent

    def close_sockets_on_stop():
        while worker.alive:
            gevent.sleep(0.2)
        from leancoffee.live import live

        worker.log.info("worker stopping: closing live sockets with 1012")
        live.shutdown()
        from leancoffee.webhooks import sender

        sender.stop(worker.wsgi)  # the webhook deliveries under way finish first (none is sent twice)

    gevent.spawn(close_sockets_on_stop)


def worker_exit(server, worker):
    """Close what is still open with 1012 before the worker ends.

    Live sockets are not requests (each outlives the request that opened it), so gunicorn does not
    wait for them: without this, a worker could end before the greenlet above closed them cleanly.
    """
    import gevent

    from leancoffee.live import live

    if worker.pid != os.getpid() or live.hub is None:
        return  # gunicorn also calls this in the master, for a worker that vanished
    live.shutdown()
    gevent.sleep(0.2)  # the close frames are written by greenlets of their own


def child_exit(server, worker):
    """A worker's live gauges stop counting once it is gone."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
