"""Versioned migrations: from an empty database and from the previous version, on SQLite and PostgreSQL."""

import subprocess
import sys

import pytest

from leancoffee.db import db, open_database
from leancoffee.migrations import LATEST, MIGRATIONS, SchemaVersion, current_version, upgrade
from leancoffee.models import CarriedNote, Meeting, Note, Series, Topic
from leancoffee.services.board import load_board
from leancoffee.webhooks.tables import EVERY_MODEL as ALL_MODELS  # every table, the webhooks' too
from tests.backends import fresh_postgres_database, need_postgres
from tests.helpers import ROOT


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """An empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    need_postgres()
    with fresh_postgres_database() as url:
        yield url


def after(version: int) -> list[int]:
    """The versions an upgrade from `version` applies, in order (every later step there is, whichever they are)."""
    return [v for v, _, _ in MIGRATIONS if v > version]


def use(url):
    db.initialize(open_database(url))


def columns_of_models():
    return {m._meta.table_name: {f.column_name for f in m._meta.sorted_fields} for m in ALL_MODELS}


def columns_in_database():
    with db.connection_context():
        return {m._meta.table_name: {c.name for c in db.get_columns(m._meta.table_name)} for m in ALL_MODELS}


def test_an_empty_database_is_brought_to_the_latest_schema(database_url):
    use(database_url)
    assert upgrade() == after(0)
    assert upgrade() == []  # idempotent: a restart finds nothing to do
    assert columns_in_database() == columns_of_models()
    with db.connection_context():
        assert current_version() == LATEST and [v.version for v in SchemaVersion.select()] == after(0)


def test_a_database_of_the_previous_version_keeps_its_data(database_url):
    use(database_url)
    assert upgrade(target=1) == [1]
    with db.connection_context():
        db.execute_sql("INSERT INTO \"user\" (name, created_at) VALUES ('Fay', CURRENT_TIMESTAMP)")
        db.execute_sql("INSERT INTO meeting (code, title, votes_per_person, status, facilitator_id, created_at, version) "
                       "VALUES ('oldcode12345', 'Before the upgrade', 3, 'completed', 1, CURRENT_TIMESTAMP, 7)")
        db.execute_sql("INSERT INTO topic (meeting_id, author_id, title, description, status, created_at, updated_at, moved_at) "
                       "VALUES (1, 1, 'Kept topic', '', 'discussed', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
        db.execute_sql("INSERT INTO vote (meeting_id, topic_id, user_id, created_at) VALUES (1, 1, 1, CURRENT_TIMESTAMP)")
    assert upgrade() == after(1)
    assert columns_in_database() == columns_of_models()
    with db.connection_context():
        meeting = Meeting.get(Meeting.code == "oldcode12345")
        assert (meeting.title, meeting.version, meeting.phase, meeting.timer_state) == ("Before the upgrade", 7, "done", "idle")
        topic = Topic.get(Topic.title == "Kept topic")
        assert topic.discussed_seconds == 0 and topic.first_discussed_at is None
        state = load_board(meeting.id)
        assert [t.votes for t in state.topics.values()] == [1]


def test_an_unversioned_database_made_by_create_tables_is_recognised(tmp_path):
    use(f"sqlite:///{tmp_path / 'legacy.db'}")
    with db.connection_context():
        db.create_tables(ALL_MODELS)  # how databases were made before migrations existed
    assert upgrade() == []
    with db.connection_context():
        assert current_version() == LATEST and SchemaVersion.select().count() == len(MIGRATIONS)


def test_the_migrate_command_reports_the_version(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cmd.db'}", "SECRET_KEY": "x" * 40, "PATH": "/usr/bin:/bin"}
    first = subprocess.run([sys.executable, "-m", "leancoffee.migrations"], cwd=ROOT, env=env, capture_output=True, text=True)
    again = subprocess.run([sys.executable, "-m", "leancoffee.migrations"], cwd=ROOT, env=env, capture_output=True, text=True)
    applied = ", ".join(str(v) for v, _, _ in MIGRATIONS)
    assert first.stdout.strip() == f"schema version {LATEST} (applied {applied})", first.stderr
    assert again.stdout.strip() == f"schema version {LATEST} (up to date)"


def test_users_of_version_2_keep_their_rows_and_start_at_generation_0(database_url):
    use(database_url)
    assert upgrade(target=2) == [1, 2]
    with db.connection_context():
        db.execute_sql("INSERT INTO \"user\" (name, created_at) VALUES ('Ann', CURRENT_TIMESTAMP)")
    assert upgrade() == after(2)
    from leancoffee.models import User

    with db.connection_context():
        ann = User.get(User.name == "Ann")
        assert ann.session_generation == 0 and ann.get_id() == f"{ann.id}.0"
        db.execute_sql("INSERT INTO \"user\" (name, created_at) VALUES ('Bo', CURRENT_TIMESTAMP)")  # the default lives in SQL
        assert User.get(User.name == "Bo").session_generation == 0


def test_meetings_of_version_3_each_get_their_own_room_secret(database_url):
    use(database_url)
    assert upgrade(target=3) == [1, 2, 3]
    with db.connection_context():
        db.execute_sql("INSERT INTO \"user\" (name, created_at) VALUES ('Fay', CURRENT_TIMESTAMP)")
        for code in ("firstcode123", "secondcode45"):
            db.execute_sql("INSERT INTO meeting (code, title, votes_per_person, status, facilitator_id, created_at, version) "
                           f"VALUES ('{code}', 'Kept {code}', 3, 'in_progress', 1, CURRENT_TIMESTAMP, 5)")
        db.execute_sql("INSERT INTO topic (meeting_id, author_id, title, description, status, created_at, updated_at, moved_at) "
                       "VALUES (1, 1, 'Kept topic', '', 'to_discuss', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
        db.execute_sql("INSERT INTO vote (meeting_id, topic_id, user_id, created_at) VALUES (1, 1, 1, CURRENT_TIMESTAMP)")
    assert upgrade(target=4) == [4]
    with db.connection_context():
        # Only the columns of version 4: today's model has more.
        v4 = Meeting.select(Meeting.id, Meeting.title, Meeting.version, Meeting.status, Meeting.room_secret)
        first, second = v4.where(Meeting.code == "firstcode123").get(), v4.where(Meeting.code == "secondcode45").get()
        assert (first.title, first.version, first.status) == ("Kept firstcode123", 5, "in_progress")
        assert len(first.room_secret) >= 32 and len(second.room_secret) >= 32 and first.room_secret != second.room_secret
        # The secret is unique and required in the schema itself, not only in the model.
        from peewee import IntegrityError

        for value in (f"'{first.room_secret}'", "NULL"):
            with pytest.raises(IntegrityError), db.atomic():
                db.execute_sql(f"UPDATE meeting SET room_secret = {value} WHERE id = {second.id}")
    assert upgrade() == after(4)  # then the board reads as the app does
    assert columns_in_database() == columns_of_models()
    with db.connection_context():
        # (The model is today's: a meeting made by it needs today's schema.)
        assert Meeting.create(code="newcode12345", title="New", facilitator=1).room_secret not in (first.room_secret, None)
        assert [t.votes for t in load_board(first.id).topics.values()] == [1]


def test_topics_of_version_4_keep_their_rows_and_gain_an_empty_merge_trace(database_url):
    use(database_url)
    assert upgrade(target=4) == [1, 2, 3, 4]
    with db.connection_context():
        db.execute_sql("INSERT INTO \"user\" (name, created_at) VALUES ('Fay', CURRENT_TIMESTAMP)")
        db.execute_sql("INSERT INTO meeting (code, title, votes_per_person, status, facilitator_id, created_at, version, phase, "
                       "room_secret) VALUES ('v3code123456', 'Before the trace', 3, 'in_progress', 1, CURRENT_TIMESTAMP, 4, "
                       "'voting', 'a-room-secret-of-version-4-meeting')")
        db.execute_sql("INSERT INTO topic (meeting_id, author_id, title, description, status, created_at, updated_at, moved_at) "
                       "VALUES (1, 1, 'Old topic', 'kept', 'to_discuss', "
                       "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
        db.execute_sql("INSERT INTO vote (meeting_id, topic_id, user_id, created_at) VALUES (1, 1, 1, CURRENT_TIMESTAMP)")
    assert upgrade() == after(4)
    assert columns_in_database() == columns_of_models()
    with db.connection_context():
        topic = Topic.get(Topic.title == "Old topic")
        assert (topic.description, topic.status, topic.merged_from) == ("kept", "to_discuss", "")
        meeting = Meeting.get(Meeting.code == "v3code123456")
        state = load_board(meeting.id)
        assert [(t.title, t.votes, t.merged_from) for t in state.topics.values()] == [("Old topic", 1, [])]
        # The default lives in SQL too: a row written by another tool is valid.
        db.execute_sql("INSERT INTO topic (meeting_id, author_id, title, description, status, created_at, updated_at, moved_at) "
                       "VALUES (1, 1, 'By hand', '', 'to_discuss', "
                       "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
        assert Topic.get(Topic.title == "By hand").merged_from == ""


def test_meetings_of_version_5_keep_their_people_and_topics_and_gain_roles_numbers_and_settings(database_url):
    from peewee import IntegrityError

    from leancoffee.models import DeviceLink, Participant

    use(database_url)
    assert upgrade(target=5) == [1, 2, 3, 4, 5]
    with db.connection_context():
        for name in ("Fay", "Ann", "Ann2", "Bob"):
            db.execute_sql(f"INSERT INTO \"user\" (name, created_at, session_generation) VALUES ('{name}', CURRENT_TIMESTAMP, 0)")
        db.execute_sql("INSERT INTO meeting (code, title, votes_per_person, status, facilitator_id, created_at, version, phase, "
                       "room_secret) VALUES ('v5code123456', 'Before teams', 3, 'in_progress', 1, CURRENT_TIMESTAMP, 9, "
                       "'voting', 'a-room-secret-of-version-5-meeting')")
        # Two people called Ann, joined one after the other; a stale role on Bob's row (v5 never read it).
        for user_id, name, role, minute in ((1, "Fay", "facilitator", 1), (2, "Ann", "participant", 2),
                                            (3, "Ann", "participant", 3), (4, "Bob", "facilitator", 4)):
            db.execute_sql("INSERT INTO participant (meeting_id, user_id, name, role, is_active, joined_at) "
                           f"VALUES (1, {user_id}, '{name}', '{role}', TRUE, '2024-01-01 10:0{minute}:00')")
        db.execute_sql("INSERT INTO topic (meeting_id, author_id, title, description, status, created_at, updated_at, moved_at, "
                       "merged_from) VALUES (1, 2, 'Old topic', '', 'to_discuss', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, "
                       "CURRENT_TIMESTAMP, '')")
        db.execute_sql("INSERT INTO vote (meeting_id, topic_id, user_id, created_at) VALUES (1, 1, 3, CURRENT_TIMESTAMP)")
    assert upgrade() == after(5)  # and on to the latest, which the models describe
    assert columns_in_database() == columns_of_models()
    with db.connection_context():
        people = {p.user_id: p for p in Participant.select()}
        assert [(people[u].label, people[u].role) for u in (1, 2, 3, 4)] == [
            ("Fay", "facilitator"), ("Ann", "participant"), ("Ann (2)", "participant"), ("Bob", "participant")]
        meeting = Meeting.get(Meeting.code == "v5code123456")
        assert (meeting.version, meeting.phase, meeting.show_authors, meeting.private_writing) == (9, "voting", True, False)
        topic = Topic.get(Topic.title == "Old topic")
        assert (topic.anonymous, topic.unrevealed) == (False, False)
        state = load_board(meeting.id)
        assert [(t.title, t.votes, t.author_name) for t in state.topics.values()] == [("Old topic", 1, "Ann")]
        # The rules live in the schema itself.
        for statement in ("UPDATE participant SET name_number = 1 WHERE user_id = 3",  # two "Ann" number 1
                          "UPDATE participant SET name_number = 0 WHERE user_id = 4",
                          "UPDATE topic SET unrevealed = TRUE, status = 'discussed' WHERE id = 1",
                          "INSERT INTO device_link (user_id, token_hash, created_at, expires_at) "
                          "VALUES (1, 'h', '2024-01-01 10:00:00', '2024-01-01 09:00:00')",
                          "INSERT INTO device_link (user_id, token_hash, created_at, expires_at) "  # a hash is 64 hex digits
                          "VALUES (1, 'h', '2024-01-01 10:00:00', '2024-01-01 11:00:00')"):
            with pytest.raises(IntegrityError), db.atomic():
                db.execute_sql(statement)
        db.execute_sql("INSERT INTO topic (meeting_id, author_id, title, description, status, created_at, updated_at, moved_at) "
                       "VALUES (1, 1, 'By hand', '', 'to_discuss', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
        assert (Topic.get(Topic.title == "By hand").anonymous, Topic.get(Topic.title == "By hand").unrevealed) == (False, False)
        assert DeviceLink.select().count() == 0


def test_notes_and_meetings_of_version_6_keep_their_rows_and_gain_owners_done_and_series(database_url):
    """Version 7 from version 6: notes stay open, free-text owners stay, no meeting has a series."""
    from peewee import IntegrityError

    use(database_url)
    assert upgrade(target=6) == [1, 2, 3, 4, 5, 6]
    with db.connection_context():
        db.execute_sql("INSERT INTO \"user\" (name, created_at) VALUES ('Fay', CURRENT_TIMESTAMP)")
        db.execute_sql("INSERT INTO meeting (code, title, votes_per_person, status, facilitator_id, created_at, version, phase, "
                       "room_secret) VALUES ('v5code123456', 'Before actions last', 3, 'completed', 1, CURRENT_TIMESTAMP, 9, "
                       "'done', 'a-room-secret-of-version-5-meeting')")
        db.execute_sql("INSERT INTO participant (meeting_id, user_id, name, role, is_active, joined_at) "
                       "VALUES (1, 1, 'Fay', 'facilitator', TRUE, CURRENT_TIMESTAMP)")
        db.execute_sql("INSERT INTO topic (meeting_id, author_id, title, description, status, created_at, updated_at, moved_at) "
                       "VALUES (1, 1, 'Old topic', '', 'discussed', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
        for kind, text, owner in (("action", "Write the rota", "Bob"), ("takeaway", "Weekly is enough", "")):
            db.execute_sql("INSERT INTO note (meeting_id, topic_id, author_id, kind, text, owner, created_at) "
                           f"VALUES (1, 1, 1, '{kind}', '{text}', '{owner}', CURRENT_TIMESTAMP)")
    assert upgrade() == after(6)  # and on to the latest, which the models describe
    assert columns_in_database() == columns_of_models()
    with db.connection_context():
        assert current_version() == LATEST
        action, takeaway = Note.select().order_by(Note.id)
        assert (action.text, action.owner, action.owner_participant_id, action.done, action.done_at) == (
            "Write the rota", "Bob", None, False, None)
        assert (takeaway.text, takeaway.done) == ("Weekly is enough", False)
        meeting = Meeting.get(Meeting.code == "v5code123456")
        assert (meeting.title, meeting.version, meeting.series_id) == ("Before actions last", 9, None)
        assert [n.text for n in load_board(meeting.id).actions] == ["Write the rota"]
        # The schema keeps the rules: an owner is a participant or a typed name, never both; only actions are done.
        for bad in ("UPDATE note SET owner_participant_id = 1 WHERE id = 1",  # the typed name "Bob" is still there
                    "UPDATE note SET done = TRUE WHERE id = 2",
                    "UPDATE note SET done = NULL WHERE id = 1",
                    "UPDATE meeting SET series_id = 99 WHERE id = 1",
                    "INSERT INTO carriednote (meeting_id, note_id) VALUES (1, 99)"):
            with pytest.raises(IntegrityError), db.atomic():
                db.execute_sql(bad)
        series = Series.create(code="series123456")
        Meeting.update(series=series).where(Meeting.id == meeting.id).execute()
        CarriedNote.create(meeting=meeting.id, note=action.id)
        with pytest.raises(IntegrityError), db.atomic():
            CarriedNote.create(meeting=meeting.id, note=action.id)
        # A note written by another tool is open by default.
        db.execute_sql("INSERT INTO note (meeting_id, topic_id, author_id, kind, text, owner, created_at) "
                       "VALUES (1, 1, 1, 'action', 'By hand', '', CURRENT_TIMESTAMP)")
        assert Note.get(Note.text == "By hand").done is False


def test_version_7_gains_the_token_table_with_its_rules_in_the_schema_and_keeps_its_data(database_url):
    use(database_url)
    assert upgrade(target=7) == [1, 2, 3, 4, 5, 6, 7]
    with db.connection_context():
        db.execute_sql("INSERT INTO \"user\" (name, created_at) VALUES ('Fay', CURRENT_TIMESTAMP)")
        db.execute_sql("INSERT INTO meeting (code, title, votes_per_person, status, facilitator_id, created_at, version, phase, "
                       "room_secret) VALUES ('v5code123456', 'Before the API', 3, 'in_progress', 1, CURRENT_TIMESTAMP, 9, "
                       "'voting', 'a-room-secret-of-version-5-meeting')")
        db.execute_sql("INSERT INTO topic (meeting_id, author_id, title, description, status, created_at, updated_at, moved_at) "
                       "VALUES (1, 1, 'Old topic', '', 'to_discuss', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
        db.execute_sql("INSERT INTO vote (meeting_id, topic_id, user_id, created_at) VALUES (1, 1, 1, CURRENT_TIMESTAMP)")
    assert upgrade() == after(7)
    assert columns_in_database() == columns_of_models()
    from peewee import DataError, IntegrityError

    from leancoffee.models import ApiToken, User
    from leancoffee.services import tokens

    with db.connection_context():
        meeting = Meeting.get(Meeting.code == "v5code123456")
        assert (meeting.title, meeting.version) == ("Before the API", 9)
        assert [t.votes for t in load_board(meeting.id).topics.values()] == [1]
        fay = User.get(User.name == "Fay")
        made = tokens.create_token(fay, "script")
        assert tokens.authenticate(made.secret)[0].id == fay.id and made.token.revoked_at is None  # NULL until revoked
        insert = "INSERT INTO apitoken (user_id, name, token_hash, created_at) VALUES ({}, '{}', '{}', CURRENT_TIMESTAMP)"
        for user_id, name, digest in ((fay.id, "same hash", made.token.token_hash),  # unique hash
                                      (fay.id, "", "b" * 64), (fay.id, "n" * 61, "c" * 64),  # name 1-60
                                      (fay.id, "short hash", "d" * 10), (999, "no such user", "e" * 64)):  # FK to user
            with pytest.raises((IntegrityError, DataError)), db.atomic():  # PostgreSQL: a DataError past varchar(60)
                db.execute_sql(insert.format(user_id, name, digest))
        assert ApiToken.select().count() == 1


def test_version_8_gains_the_meeting_clock_and_done_voting_with_their_rules_and_keeps_its_data(database_url):
    use(database_url)
    assert upgrade(target=8) == after(0)[:8]
    with db.connection_context():
        db.execute_sql("INSERT INTO \"user\" (name, created_at) VALUES ('Fay', CURRENT_TIMESTAMP)")
        db.execute_sql("INSERT INTO meeting (code, title, votes_per_person, status, facilitator_id, created_at, version, phase, "
                       "room_secret) VALUES ('v8code123456', 'Before the clock', 3, 'in_progress', 1, CURRENT_TIMESTAMP, 4, "
                       "'voting', 'a-room-secret-of-version-8-meeting')")
        db.execute_sql("INSERT INTO participant (meeting_id, user_id, name, role, is_active, joined_at) "
                       "VALUES (1, 1, 'Fay', 'facilitator', TRUE, CURRENT_TIMESTAMP)")
    assert upgrade() == after(8)
    assert columns_in_database() == columns_of_models()
    from peewee import IntegrityError

    from leancoffee.models import Participant

    with db.connection_context():
        meeting = Meeting.get(Meeting.code == "v8code123456")
        assert (meeting.title, meeting.version, meeting.phase) == ("Before the clock", 4, "voting")
        assert (meeting.collecting_seconds, meeting.voting_seconds, meeting.planned_minutes) == (None, None, None)
        assert Participant.get(Participant.meeting == meeting.id).done_voting is False
        assert load_board(meeting.id).progress.people == 1
        for column, value in (("collecting_seconds", 0), ("voting_seconds", 7201), ("planned_minutes", 0),
                              ("planned_minutes", 601)):
            with pytest.raises(IntegrityError), db.atomic():  # the limits live in the schema
                db.execute_sql(f"UPDATE meeting SET {column} = {value} WHERE id = {meeting.id}")
        db.execute_sql(f"UPDATE meeting SET collecting_seconds = 7200, planned_minutes = 600 WHERE id = {meeting.id}")
        assert Meeting.get_by_id(meeting.id).planned_minutes == 600


def test_version_9_gains_webhooks_and_their_deliveries_with_their_rules_in_the_schema_and_keeps_its_data(database_url):
    use(database_url)
    assert upgrade(target=9) == after(0)[:9]
    with db.connection_context():
        db.execute_sql("INSERT INTO \"user\" (name, created_at) VALUES ('Fay', CURRENT_TIMESTAMP)")
        db.execute_sql("INSERT INTO meeting (code, title, votes_per_person, status, facilitator_id, created_at, version, phase, "
                       "room_secret, planned_minutes) VALUES ('v9code123456', 'Before webhooks', 3, 'in_progress', 1, "
                       "CURRENT_TIMESTAMP, 4, 'voting', 'a-room-secret-of-version-9-meeting', 45)")
        db.execute_sql("INSERT INTO series (code, created_at) VALUES ('v9series1234', CURRENT_TIMESTAMP)")
    assert upgrade() == after(9) == [10]
    assert columns_in_database() == columns_of_models()
    from peewee import IntegrityError

    from leancoffee.webhooks.tables import Webhook, WebhookDelivery

    with db.connection_context():
        meeting = Meeting.get(Meeting.code == "v9code123456")
        assert (meeting.title, meeting.planned_minutes) == ("Before webhooks", 45)
        hook = Webhook.create(meeting=meeting.id, url="https://chat.example/hook", format="slack", secret="s" * 40)
        assert (hook.enabled, hook.consecutive_failures, hook.on_finished, hook.on_topic) == (True, 0, True, False)
        insert = ("INSERT INTO webhook (meeting_id, series_id, url, format, secret, on_finished, on_topic, created_at) "
                  "VALUES ({}, {}, '{}', '{}', '{}', {}, {}, CURRENT_TIMESTAMP)")
        for values in ((meeting.id, 1, "https://x", "json", "s" * 40, "TRUE", "FALSE"),  # a meeting's or a series', not both
                       ("NULL", "NULL", "https://x", "json", "s" * 40, "TRUE", "FALSE"),  # nor neither
                       (meeting.id, "NULL", "", "json", "s" * 40, "TRUE", "FALSE"),  # a URL
                       (meeting.id, "NULL", "https://x", "xml", "s" * 40, "TRUE", "FALSE"),  # a known format
                       (meeting.id, "NULL", "https://x", "json", "short", "TRUE", "FALSE"),  # a real secret
                       (meeting.id, "NULL", "https://x", "json", "s" * 40, "FALSE", "FALSE"),  # at least one event
                       (999, "NULL", "https://x", "json", "s" * 40, "TRUE", "FALSE")):  # FK to meeting
            with pytest.raises(IntegrityError), db.atomic():
                db.execute_sql(insert.format(*values))
        db.execute_sql(insert.format("NULL", 1, "https://chat.example/series", "teams", "t" * 40, "FALSE", "TRUE"))
        WebhookDelivery.create(webhook=hook.id, uid="u-1", event="meeting.finished", body="{}")
        for sql in ("INSERT INTO webhook_delivery (webhook_id, uid, event, body, status, attempts, next_attempt_at, last_error, "
                    f"created_at) VALUES ({hook.id}, 'u-1', 'meeting.finished', '{{}}', 'pending', 0, CURRENT_TIMESTAMP, '', "
                    "CURRENT_TIMESTAMP)",  # one id per delivery
                    "UPDATE webhook_delivery SET status = 'lost'", "UPDATE webhook_delivery SET event = 'meeting.started'",
                    "UPDATE webhook_delivery SET attempts = -1"):
            with pytest.raises(IntegrityError), db.atomic():
                db.execute_sql(sql)
        Meeting.delete().where(Meeting.id == meeting.id).execute()  # a meeting's webhooks and their log go with it
        assert Webhook.select().count() == 1 and WebhookDelivery.select().count() == 0
