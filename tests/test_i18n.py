"""The team's language and the viewer's time zone: the catalogs, the choice of language, refusals, pages and exports."""

import re
from datetime import datetime
from html import unescape
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from leancoffee.models import Meeting

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "translations" / "de" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2), "lazy_gettext": None,
            "lazy_pgettext": ((1, "c"), 2)}


def german_catalog():
    with CATALOG.open("rb") as po:
        return read_po(po, locale="de")


def extracted_now() -> set:
    """Every (context, msgid) the code and templates hold today, extracted as scripts/translations does."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for folder in ("leancoffee", "templates"):
        for _, _, message, _, context in extract_from_dir(ROOT / folder, method_map, options_map, keywords=KEYWORDS):
            found.add((context, message if isinstance(message, str) else message[0]))
    return found


def test_the_german_catalog_is_complete_and_matches_the_code():
    catalog = german_catalog()
    entries = [m for m in catalog if m.id]
    untranslated = [m.id for m in entries if not all(m.string if isinstance(m.string, tuple) else [m.string])]
    fuzzy = [m.id for m in entries if m.fuzzy]
    assert untranslated == [] and fuzzy == [] and catalog.obsolete == {}
    in_catalog = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in entries}
    in_code = extracted_now()
    assert in_code - in_catalog == set(), "strings not in the catalog: run bash scripts/translations update"
    assert in_catalog - in_code == set(), "strings no longer in the code: run bash scripts/translations update"
    assert len(entries) > 400
    # Placeholders survive translation: a German text names the same %(...)s as its English one.
    for m in entries:
        english = m.id if isinstance(m.id, tuple) else (m.id,)
        german = m.string if isinstance(m.string, tuple) else (m.string,)
        wanted = set(re.findall(r"%\(\w+\)[sd]", " ".join(english)))
        assert all(set(re.findall(r"%\(\w+\)[sd]", g)) <= wanted | {"%(num)d"} for g in german), m.id


def test_the_committed_mo_is_the_compiled_po():
    compiled = BytesIO()
    write_mo(compiled, german_catalog())
    assert (CATALOG.with_suffix(".mo")).read_bytes() == compiled.getvalue(), "run: bash scripts/translations compile"


# Text a template may show without _(): names, symbols and what the page fills in.
UNTRANSLATED_OK = re.compile(r'^([\W\d_]*(Lean Coffee)?[\W\d_]*|curl -H "Authorization: Bearer \$TOKEN"|/m/)$')
HUMAN_ATTRIBUTES = re.compile(r'\b(aria-label|placeholder|title|alt|data-confirm|data-confirm-detail)="([^"]*)"')


def visible_literals(source: str) -> list[str]:
    """Words a template shows that are not inside {{ }} or {% %} (so were never given to gettext)."""
    text = re.sub(r"{#.*?#}", "", source, flags=re.S)
    text = re.sub(r"{%-?\s*trans\b.*?endtrans\s*-?%}", "", text, flags=re.S)
    attributes = [value for _, value in HUMAN_ATTRIBUTES.findall(text)]
    text = re.sub(r"{{.*?}}|{%.*?%}", " ", text, flags=re.S)
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S)
    text = re.sub(r"<[^>]*>", "\n", text)
    pieces = [re.sub(r"{{.*?}}|{%.*?%}", "", a) for a in attributes] + text.split("\n")
    return [p.strip() for p in pieces if not UNTRANSLATED_OK.match(p.strip())]


def test_every_template_gives_its_words_to_gettext():
    templates = sorted((ROOT / "templates").glob("*.html"))
    assert len(templates) >= 46
    bare = {t.name: visible_literals(t.read_text()) for t in templates}
    assert {name: words for name, words in bare.items() if words} == {}


def test_the_template_check_finds_a_bare_word():
    assert visible_literals('<p>Hello</p><b aria-label="Close">{{ _("x") }}</b>') == ["Close", "Hello"]
    assert visible_literals('<p>{{ _("Hello") }} · {{ n }}</p>{% trans %}Hi{% endtrans %}') == []


def english_sentences() -> list[str]:
    """English texts of the catalog whose German differs, long enough not to be a name (for searching pages)."""
    found = []
    for m in german_catalog():
        for english, german in zip(*(x if isinstance(x, tuple) else (x,) for x in (m.id, m.string)), strict=False):
            plain = re.sub(r"<[^>]+>", "", re.split(r"%\(\w+\)[sd]", english)[0]).strip()
            if m.id and english != german and len(plain) >= 12:
                found.append(plain)
    return found


def page_text(html: str) -> str:
    html = re.sub(r'<script type="application/json".*?</script>', "", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def speak_german(*people):
    for who in people:
        who.client.set_cookie("lang", "de")


@pytest.fixture
def german_meeting(meeting):
    """The shared meeting in discussion, with a takeaway and an action, read in German by everyone."""
    m, fay, ann, bob = meeting
    speak_german(fay, ann, bob)
    ann.post(f"/m/{m.code}/topics", {"title": "Rufbereitschaft"})
    fay.post(f"/m/{m.code}/topics", {"title": "Vier-Tage-Woche"})
    fay.post(f"/m/{m.code}/phase", {"phase": "voting", "expected": "collecting"})
    ann.post(f"/m/{m.code}/topics/1/vote")
    fay.post(f"/m/{m.code}/discuss-next", {"expected": "none"})
    ann.post(f"/m/{m.code}/topics/1/notes", {"kind": "takeaway", "text": "Wöchentlich wechseln"})
    ann.post(f"/m/{m.code}/topics/1/notes", {"kind": "action", "text": "Plan schreiben", "owner": "Ann"})
    return m, fay, ann, bob


def test_every_page_in_german_has_no_english_sentence_left(german_meeting):
    m, fay, ann, bob = german_meeting
    english = english_sentences()
    assert len(english) > 250
    pages = {path: fay.get(path) for path in ("/", f"/m/{m.code}", f"/m/{m.code}/summary", f"/m/{m.code}/room",
                                              "/device", "/settings/tokens", "/nowhere", f"/m/{m.code}/summary.md")}
    pages["ann's board"] = ann.get(f"/m/{m.code}")
    for path, response in pages.items():
        assert response.status_code in (200, 404), path
        text = page_text(response.text)
        assert [s for s in english if s in text] == [], path
        if not path.endswith(".md"):
            assert '<html lang="de">' in response.text, path
    board = page_text(pages[f"/m/{m.code}"].text)
    for german in ("In Diskussion", "Gerade dran", "Erkenntnis", "Wöchentlich wechseln", "Timer pausieren", "+1 Minute"):
        assert german in board
    # Marking an action done is a verb ("Abhaken"), not the state it leads to ("erledigt"), on the board and at home.
    for path in (f"/m/{m.code}", "/"):
        assert re.search(r'<button[^>]*id="(my-)?action-(toggle|done)-\d+"[^>]*>Abhaken</button>', ann.get(path).text), path


def test_accept_language_chooses_and_the_switch_overrides_it_in_a_cookie(app, person):
    browser = person()
    assert '<html lang="en">' in browser.get("/").text
    german = browser.client.get("/", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}).text
    assert '<html lang="de">' in german and "Lean Coffee starten" in german
    assert "Lean Coffee starten" not in browser.client.get("/", headers={"Accept-Language": "fr-FR"}).text
    # The footer's links, each in its own language, back to the same page.
    assert re.search(r'<a href="/language/en\?next=/" lang="en" hreflang="en"\s*>English</a>', german)
    switched = browser.client.get("/language/en?next=/settings/tokens", headers={"Accept-Language": "de"})
    assert switched.status_code == 303 and switched.headers["Location"] == "/settings/tokens"
    assert "lang=en" in switched.headers["Set-Cookie"] and "HttpOnly" in switched.headers["Set-Cookie"]
    assert '<html lang="en">' in browser.client.get("/", headers={"Accept-Language": "de"}).text
    browser.client.get("/language/de?next=/")
    assert '<html lang="de">' in browser.get("/").text  # a plain browser: no Accept-Language at all


@pytest.mark.parametrize("target", ["//evil.example/x", "/\\evil.example", "https://evil.example/", "evil", "",
                                    "/%0d%0aSet-Cookie:x=1", "/\x07bell"])
def test_the_switch_goes_back_only_to_a_page_of_this_site(app, person, target):
    response = person().client.get("/language/de", query_string={"next": target})
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location == "/" or (location.startswith("/") and not location.startswith("//") and "\n" not in location)


def test_an_unknown_language_is_not_found_and_a_stale_cookie_falls_back(app, person):
    browser = person()
    assert browser.client.get("/language/xx?next=/").status_code == 404
    browser.client.set_cookie("lang", "klingon")
    assert '<html lang="de">' in browser.client.get("/", headers={"Accept-Language": "de"}).text


def test_refusals_and_flashes_speak_the_actors_language(german_meeting):
    m, fay, ann, bob = german_meeting
    refused = bob.post(f"/m/{m.code}/phase", {"phase": "done", "expected": "discussing"})
    assert refused.status_code == 403 and "Das kann nur die Moderation." in unescape(refused.text)
    page = bob.post(f"/m/{m.code}/topics", {"title": ""}, htmx=False)
    assert page.status_code == 422 and "Titel des Themas fehlt." in unescape(page.text)
    assert "Nicht gespeichert" in page.text and '<html lang="de">' in page.text
    ann.client.set_cookie("lang", "en")
    english = ann.post(f"/m/{m.code}/topics", {"title": ""})
    assert english.status_code == 422 and "Topic title is required." in unescape(english.text)
    stale = fay.post(f"/m/{m.code}/topics", {"title": "x"}, token=False)
    assert stale.status_code == 400 and "Deine Seite war nicht mehr aktuell" in unescape(stale.text)


def test_the_429_and_503_pages_are_german_too(tmp_path, monkeypatch):
    from leancoffee.db import db
    from leancoffee.factory import create_app
    from tests.conftest import Person

    monkeypatch.setenv("SECRET_KEY", "test-secret")
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "RATE_LIMIT_WRITES": "2 per 60 seconds"})
    fay = Person(app)
    speak_german(fay)
    code = fay.post("/meetings", {"title": "T", "votes_per_person": "3", "name": "Fay"}, htmx=False).headers["Location"][3:]
    answers = [fay.post(f"/m/{code}/topics", {"title": f"t{i}"}, htmx=False) for i in range(3)]
    assert answers[-1].status_code == 429 and "Du bist etwas schnell" in unescape(answers[-1].text)
    db.execute_sql("DROP TABLE vote")
    down = fay.get(f"/m/{code}")
    assert down.status_code == 503 and "Nicht verfügbar" in down.text and "nicht erreichbar" in down.text
    assert '<html lang="de">' in down.text


def test_the_markdown_export_follows_the_reader_and_the_csv_stays_english(german_meeting):
    m, fay, ann, bob = german_meeting
    fay.post(f"/m/{m.code}/phase", {"phase": "done", "expected": "discussing", "confirmed": "1"})
    markdown = fay.get(f"/m/{m.code}/summary.md").text
    assert "## Teilnehmende" in markdown and "## Aufgaben" in markdown and "Erkenntnisse:" in markdown
    assert "vorgeschlagen von Ann" in markdown and "UTC" in markdown  # no time zone told: times say UTC
    csv = fay.get(f"/m/{m.code}/summary.csv").text
    assert csv.startswith("record,topic,column") and ",Discussed," in csv and ",Zu besprechen," not in csv
    ann.client.set_cookie("lang", "en")
    english = ann.get(f"/m/{m.code}/summary.md").text
    assert "## Attendees" in english and "proposed by Ann" in english


def test_times_show_in_the_zone_the_browser_told_and_say_utc_without_one(german_meeting):
    m, fay, ann, bob = german_meeting
    moments = {"started_at": datetime(2026, 7, 1, 8, 5), "ended_at": datetime(2026, 7, 1, 9, 0)}
    Meeting.update(**moments).where(Meeting.id == m.id).execute()
    utc = page_text(fay.get(f"/m/{m.code}/summary").text)
    assert "Begonnen 01.07.2026, 08:05:00 UTC, beendet 01.07.2026, 09:00:00 UTC" in utc
    fay.client.set_cookie("tz", "Europe/Berlin")
    summary = page_text(fay.get(f"/m/{m.code}/summary").text)
    assert "Begonnen 01.07.2026, 10:05:00, beendet 01.07.2026, 11:00:00" in summary and "UTC" not in summary
    assert "Begonnen 01.07.2026, 10:05:00" in fay.get(f"/m/{m.code}/summary.md").text
    ann.client.set_cookie("tz", "America/New_York")
    ann.client.set_cookie("lang", "en")
    assert "Started Jul 1, 2026, 4:05:00 AM, ended Jul 1, 2026, 5:00:00 AM" in page_text(ann.get(f"/m/{m.code}/summary").text)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/passwd", "/etc/localtime", "Europe/Berlin\x00", "x" * 300,
                                  "", "Europe/../Europe/Berlin"])
def test_a_time_zone_cookie_that_names_no_zone_is_ignored(german_meeting, zone):
    m, fay, ann, bob = german_meeting
    Meeting.update(started_at=datetime(2026, 7, 1, 8, 5)).where(Meeting.id == m.id).execute()
    fay.client.set_cookie("tz", zone)
    response = fay.get(f"/m/{m.code}/summary")
    assert response.status_code == 200 and "Begonnen 01.07.2026, 08:05:00 UTC" in page_text(response.text)


def test_the_home_page_lists_meetings_in_the_readers_time(german_meeting):
    m, fay, ann, bob = german_meeting
    Meeting.update(created_at=datetime(2026, 1, 15, 23, 30)).where(Meeting.id == m.id).execute()
    assert "15.01.2026, 23:30:00 UTC · In Diskussion · du moderierst" in page_text(fay.get("/").text)
    fay.client.set_cookie("tz", "Asia/Tokyo")
    assert "16.01.2026, 08:30:00 · In Diskussion" in page_text(fay.get("/").text)


def test_the_scripts_words_come_in_the_pages_language(app, person):
    browser = person()
    browser.client.set_cookie("lang", "de")
    html = browser.get("/").text
    data = re.search(r'<script type="application/json" id="page-text">(.*?)</script>', html).group(1)
    assert '"reconnecting": "Neu verbinden \\u2026"' in data and '"newTopic": "Neues Thema: {title}"' in data
