"""Static files come from WhiteNoise: gzipped ahead of time, with cache headers; pages are never compressed."""

import gzip
import re
from pathlib import Path

from tests.conftest import Person

STATIC = Path(__file__).resolve().parent.parent / "static"


def test_static_files_are_served_gzipped_from_files_made_ahead_of_time(app):
    assert (STATIC / "app.css.gz").exists(), "bash scripts/test makes the .gz files"
    client = app.test_client()
    css = client.get("/static/app.css", headers={"Accept-Encoding": "gzip, deflate"})
    assert css.status_code == 200 and css.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in css.headers["Vary"]
    assert css.data == (STATIC / "app.css.gz").read_bytes()
    assert gzip.decompress(css.data) == (STATIC / "app.css").read_bytes()
    assert int(css.headers["Content-Length"]) == len(css.data)
    plain_css = gzip.decompress(css.data)
    assert len(css.data) * 4 < len(plain_css)  # compressed, not just wrapped in gzip (the whole board's budget is below)
    plain = client.get("/static/app.css")  # not asked for gzip
    assert "Content-Encoding" not in plain.headers and plain.data == plain_css
    assert plain.headers["Content-Type"].startswith("text/css") and plain.headers["X-Content-Type-Options"] == "nosniff"


def test_static_files_say_how_long_to_keep_them_and_answer_revalidation(app):
    client = app.test_client()
    script = client.get("/static/board.js")
    assert script.status_code == 200 and "max-age=" in script.headers["Cache-Control"]
    assert "immutable" not in script.headers["Cache-Control"]  # its name stays the same when it changes
    again = client.get("/static/board.js", headers={"If-None-Match": script.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    vendored = client.get("/static/vendor/htmx-4.0.1.min.js")
    assert vendored.status_code == 200 and "immutable" in vendored.headers["Cache-Control"]  # the version is in its name
    assert client.get("/static/no-such-file.js").status_code == 404


def test_pages_are_not_compressed_because_they_carry_the_csrf_token(app):
    page = app.test_client().get("/", headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 200 and "Content-Encoding" not in page.headers and "Start a Lean Coffee" in page.text
    assert page.headers["Cache-Control"] == "no-store"


def test_a_board_and_everything_it_loads_stay_under_100_kb_transferred(app):
    fay = Person(app)
    code = fay.post("/meetings", {"title": "Weekly", "votes_per_person": "3", "name": "Fay"}, htmx=False).headers["Location"][3:]
    for n in range(10):
        fay.post(f"/m/{code}/topics", {"title": f"Topic {n}", "description": "Something to talk about " * 5})
    page = fay.get(f"/m/{code}")
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
    assert {"/static/app.css", "/static/board.js"} <= set(assets)
    client = app.test_client()
    sizes = {path: len(client.get(path, headers={"Accept-Encoding": "gzip"}).data) for path in assets}
    assert len(page.data) + sum(sizes.values()) < 100_000, sizes
