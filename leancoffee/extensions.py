"""Extension objects, created once and bound to the app in create_app."""

from flask_login import LoginManager
from flask_sock import Sock

login_manager = LoginManager()
sock = Sock()
