"""Issue 22, personal API tokens: made on a page, shown once, stored as a hash, named, revoked, and revoked on sign-out."""

import hashlib

from leancoffee.models import ApiToken
from leancoffee.services.tokens import MAX_ACTIVE_TOKENS
from tests.api_helpers import api_get, make_token
from tests.helpers import page_token


def stored_columns() -> list[str]:
    """Every value the token table holds, as text."""
    return [str(v) for row in ApiToken.select().dicts() for v in row.values()]


def test_a_token_is_shown_once_and_only_its_sha256_is_stored(meeting, app):
    m, fay, ann, bob = meeting
    secret = make_token(ann, "Team dashboard")
    assert secret.startswith("lct_") and len(secret) >= 40
    (row,) = ApiToken.select()
    assert row.name == "Team dashboard" and row.revoked_at is None and row.user.name == "Ann"
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert not any(secret in value or secret[4:] in value for value in stored_columns())
    again = ann.get("/settings/tokens").text
    assert "Team dashboard" in again and secret not in again  # listed by name, never shown again
    me = api_get(app.test_client(), "/api/v1/meetings", secret).get_json()
    assert [x["title"] for x in me["meetings"]] == ["Team coffee"]


def test_a_token_acts_for_its_owner_only(meeting, app, person):
    m, fay, ann, bob = meeting
    other = person()
    other.post("/meetings", {"title": "Someone else's", "votes_per_person": "2", "name": "Oz"}, htmx=False)
    oz = make_token(other)
    client = app.test_client()
    assert [x["title"] for x in api_get(client, "/api/v1/meetings", oz).get_json()["meetings"]] == ["Someone else's"]
    assert api_get(client, f"/api/v1/meetings/{m.code}", oz).status_code == 403  # another person's token: their rights


def test_a_revoked_token_stops_working_at_once_and_only_its_owner_can_revoke_it(meeting, app):
    m, fay, ann, bob = meeting
    secret, client = make_token(ann, "CI"), app.test_client()
    token = ApiToken.get(ApiToken.name == "CI")
    refused = bob.post(f"/settings/tokens/{token.id}/revoke", htmx=False)  # Bob cannot revoke Ann's
    assert refused.status_code == 404 and ApiToken.get_by_id(token.id).revoked_at is None
    assert api_get(client, "/api/v1/meetings", secret).status_code == 200
    no_csrf = ann.post(f"/settings/tokens/{token.id}/revoke", htmx=False, token=False)
    assert no_csrf.status_code == 400 and ApiToken.get_by_id(token.id).revoked_at is None
    revoked = ann.post(f"/settings/tokens/{token.id}/revoke", htmx=False)
    assert revoked.status_code == 303 and ApiToken.get_by_id(token.id).revoked_at is not None
    page = ann.get("/settings/tokens").text
    assert "is revoked" in page and 'id="no-tokens"' in page
    gone = api_get(client, f"/api/v1/meetings/{m.code}", secret)
    assert gone.status_code == 401 and "revoked" in gone.get_json()["error"]["message"]
    assert ann.post(f"/settings/tokens/{token.id}/revoke", htmx=False).status_code == 404  # once is enough
    assert ann.post("/settings/tokens/abc/revoke", htmx=False).status_code == 404


def test_bad_names_forged_posts_and_strangers_make_no_token(app, meeting, person):
    m, fay, ann, bob = meeting
    for name, message in (("", "Token name"), ("x" * 61, "60"), ("\u202eevil", "text-direction")):
        response = ann.post("/settings/tokens", {"name": name}, htmx=False)
        assert response.status_code == 422 and message in response.text
    assert ann.post("/settings/tokens", {"name": "forged"}, htmx=False, token=False).status_code == 400
    nobody = person()
    page = nobody.get("/settings/tokens")
    assert page.status_code == 200 and "not signed in" in page.text and 'id="create-token"' not in page.text
    assert nobody.post("/settings/tokens", {"name": "mine"}, htmx=False).status_code == 403
    assert ApiToken.select().count() == 0


def test_a_person_may_hold_a_bounded_number_of_tokens(meeting):
    m, fay, ann, bob = meeting
    for n in range(MAX_ACTIVE_TOKENS):
        make_token(ann, f"t{n}")
    response = ann.post("/settings/tokens", {"name": "one more"}, htmx=False)
    assert response.status_code == 409 and "revoke one" in response.text
    assert ApiToken.select().count() == MAX_ACTIVE_TOKENS


def test_sign_out_everywhere_revokes_tokens_only_when_asked(meeting, app):
    m, fay, ann, bob = meeting
    kept, revoked, client = make_token(ann, "kept"), make_token(bob, "revoked"), app.test_client()
    home = ann.get("/").text
    assert 'name="revoke_tokens"' in home  # the box on the sign-out form
    assert ann.post("/logout", htmx=False).status_code == 303
    assert api_get(client, "/api/v1/meetings", kept).status_code == 200  # signed out, tokens untouched
    assert bob.post("/logout", {"revoke_tokens": "1"}, htmx=False).status_code == 303
    assert api_get(client, "/api/v1/meetings", revoked).status_code == 401
    assert ApiToken.get(ApiToken.name == "revoked").revoked_at is not None
    # Ann's session is gone too: the API no longer knows her browser.
    ann.token = page_token(ann.get("/").text)
    assert api_get(ann.client, "/api/v1/meetings").status_code == 401
