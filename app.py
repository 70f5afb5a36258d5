"""Serve the Lean Coffee board with gevent: `python app.py [--host H] [--port P]`."""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402

import gevent  # noqa: E402
from gevent.pywsgi import LoggingLogAdapter  # noqa: E402

from leancoffee.config import ConfigurationError, is_loopback  # noqa: E402
from leancoffee.factory import create_app, tune_garbage_collector  # noqa: E402
from leancoffee.live import live  # noqa: E402
from leancoffee.redaction import RedactCodes  # noqa: E402
from leancoffee.serving import StrictServer  # noqa: E402
from leancoffee.webhooks import sender  # noqa: E402

log = logging.getLogger("leancoffee")


def listen(host: str, port: int) -> socket.socket:
    """The listening socket; its connections inherit TCP_NODELAY."""
    # pywsgi writes a response's headers and body separately: without TCP_NODELAY a keep-alive client
    # (every browser) waits for Nagle and its own delayed ACK, ~40 ms per response (measured here:
    # 46 ms -> under 5 ms for a page).
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(1024)
    return sock


def main() -> None:
    """Parse the command line and serve until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(description="Run the Lean Coffee board.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="port to listen on (default 5000)")
    args = parser.parse_args()

    try:
        app = create_app()
    except ConfigurationError as error:
        sys.exit(f"Not starting: {error}")
    app.config["LISTENS_ON_LOOPBACK"] = is_loopback(args.host)
    tune_garbage_collector()
    # No access log (the app logs each request by route, not by path: a path holds a meeting's code). The
    # server's own errors (a malformed request line, say) go through our log format with the code taken out.
    server_log = logging.getLogger("gevent.pywsgi")
    server_log.addFilter(RedactCodes())
    server = StrictServer(listen(args.host, args.port), app, log=None, error_log=LoggingLogAdapter(server_log, logging.WARNING),
                          header_timeout=app.config["HEADER_TIMEOUT_SECONDS"])

    def shut_down():
        # 1012 (service restart) tells every browser to come back by itself.
        log.info("shutting down: closing live sockets with 1012")
        live.shutdown()
        sender.stop(app)  # the webhook deliveries under way finish first (none is sent twice)
        gevent.sleep(0.2)
        server.stop(timeout=2)

    sender.start(app)  # webhook deliveries, in the background (WEBHOOKS_SENDER=off: none)
    for sig in (signal.SIGINT, signal.SIGTERM):
        gevent.signal_handler(sig, shut_down)
    log.info("Lean Coffee board on http://%s:%s (database: %s)", args.host, args.port, app.config["DATABASE_URL"].split("@")[-1])
    if app.config["LISTENS_ON_LOOPBACK"] and not app.config["PUBLIC_URL"]:
        log.info("Only this machine can open it: for phones in the room, start with --host 0.0.0.0 or set PUBLIC_URL")
    server.serve_forever()


if __name__ == "__main__":
    main()
