"""The API's test helpers: tokens made through the settings page, and every answer checked against the OpenAPI document."""

import re
from html import unescape

from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_schema_validator import OAS31Validator

from leancoffee.web.api import OPENAPI
from tests.helpers import board_expected

SPEC = OpenAPI.from_dict(OPENAPI)
# For answers to operations the document does not have (a POST, an unknown path): the Error schema itself.
ERROR_SCHEMA = OAS31Validator({"$ref": "#/components/schemas/Error", "components": OPENAPI["components"]})
SECRET_RE = re.compile(r'<textarea id="token-secret"[^>]*>([^<]+)</textarea>')


def make_token(who, name="script") -> str:
    """Create a token on who's settings page, as a person does, and read the secret it shows once."""
    response = who.post("/settings/tokens", {"name": name}, htmx=False)
    assert response.status_code == 200, response.text
    found = SECRET_RE.search(response.text)
    assert found, "the page shows no new token"
    return unescape(found.group(1))


DOCUMENTED = [re.compile(re.sub(r"\\{\w+\\}", "[^/]+", re.escape(path)) + "$") for path in OPENAPI["paths"]]


def documented(request) -> bool:
    """Whether the document describes this request's operation (every API route is GET)."""
    return request.method == "GET" and any(p.match(request.path) for p in DOCUMENTED)


def checked(response):
    """The response, after checking it against the OpenAPI document (status, headers, body schema)."""
    request = response.request
    if documented(request):
        SPEC.validate_response(WerkzeugOpenAPIRequest(request), WerkzeugOpenAPIResponse(response))
    if response.status_code >= 400:
        ERROR_SCHEMA.validate(response.get_json())
        assert response.mimetype == "application/json"
    return response


def api_get(client, path, token=None, **headers):
    """A GET to the API (with a Bearer token when given), checked against the document."""
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return checked(client.get(path, headers=headers))


def facilitate(fay, code, action, data=None):
    """Fay presses a control of her board: the form sends the state it names."""
    return fay.post(f"/m/{code}/{action}", {**(data or {}), "expected": board_expected(fay, code, action)})
