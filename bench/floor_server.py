"""The floor: the least a server on the app's stack can do for a vote, to set the app's CPU per vote against.

`python bench/floor_server.py PORT DATABASE_URL`. gevent's WSGI server, Flask, flask-login loading the
user from the session cookie with the app's own loader, peewee on the app's pool, pragmas and schema,
and the app's own vote transaction; no CSRF, no rate limit, nothing rendered. `POST /setup` signs a new
user in as the facilitator of a new meeting with three topics and answers "code topic_id topic_id
topic_id"; `POST /vote/<code>/<topic_id>` and `POST /unvote/<code>/<topic_id>` answer 200 with an empty
body (409 with the reason when the service refuses).
"""

from gevent import monkey

monkey.patch_all()

import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask  # noqa: E402
from flask_login import LoginManager, current_user, login_user  # noqa: E402
from gevent.pywsgi import WSGIServer  # noqa: E402

from app import listen  # noqa: E402
from leancoffee import i18n  # noqa: E402
from leancoffee.db import db  # noqa: E402
from leancoffee.factory import load_user, tune_garbage_collector  # noqa: E402
from leancoffee.migrations import init_db  # noqa: E402
from leancoffee.services import meetings, topics, votes  # noqa: E402
from leancoffee.services.errors import ActionRefused  # noqa: E402

TOPICS = 3


def create_floor(database_url: str) -> Flask:
    """The floor app on the database the URL names (schema brought up to date as the app does)."""
    app = Flask(__name__)
    # As the app: the session cookie is written when it changes, not on every answer.
    app.config.update(SECRET_KEY=os.environ.get("SECRET_KEY") or os.urandom(32).hex(), SESSION_REFRESH_EACH_REQUEST=False)
    init_db(database_url)
    i18n.init_app(app)  # the services' refusals are gettext texts, read in the request's language
    logins = LoginManager(app)
    logins.user_loader(load_user)

    @app.post("/setup")
    def setup():
        with db.connection_context():
            meeting = meetings.create_meeting(None, "Floor", 3, "Fay")
            user = meeting.facilitator
            ids = [topics.add_topic(user, meeting.code, f"Topic {i}").topic_id for i in range(TOPICS)]
        login_user(user)
        return " ".join([meeting.code, *map(str, ids)])

    def perform(action, code, topic_id):
        # The connection is held for the whole request, as the app's before_request does.
        with db.connection_context():
            try:
                action(current_user._get_current_object(), code, topic_id)
            except ActionRefused as error:
                return error.message, 409
        return ""

    app.add_url_rule("/vote/<code>/<int:topic_id>", "vote", lambda code, topic_id: perform(votes.cast_vote, code, topic_id),
                     methods=["POST"])
    app.add_url_rule("/unvote/<code>/<int:topic_id>", "unvote",
                     lambda code, topic_id: perform(votes.remove_vote, code, topic_id), methods=["POST"])
    return app


def main(port: int, database_url: str) -> None:
    """Serve until killed."""
    app = create_floor(database_url)
    # The app's collector settings too: otherwise the ratio would partly measure a setting.
    tune_garbage_collector()
    WSGIServer(listen("127.0.0.1", port), app, log=None).serve_forever()


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
