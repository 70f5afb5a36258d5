"""Issue 19, anonymous topics and private writing: the author is the only one who learns anything of them."""

import re

import pytest

from leancoffee.live.fanout import build_push, full_board
from leancoffee.models import Meeting, Topic
from leancoffee.services import changes, facilitation, meetings, merging, notes, topics, votes
from leancoffee.services.board import load_board
from leancoffee.services.errors import ActionRefused, Conflict, NotFound
from leancoffee.services.summary import build_summary, to_csv, to_markdown
from leancoffee.services.viewing import Viewer


def card(html: str, topic_id: int) -> str:
    ends = r'(?=<li id="topic-|<li class="empty"|</ol>)'
    found = re.search(rf'<li id="topic-{topic_id}" class="card">.*?</li>\s*{ends}', html, re.S)
    assert found, f"topic {topic_id} is not on this board"
    return found.group(0)


def boards(m, fay, ann, bob):
    state = load_board(m.id)
    return {name: full_board(state, Viewer(who.id, who.id == fay.id, True), set())
            for name, who in (("fay", fay), ("ann", ann), ("bob", bob))} | {
        "room": full_board(state, Viewer(None, screen="room"), set())}


def settings(fay, m, **kwargs):
    facilitation.update_settings(fay, m.code, False, "8m 4m 2m", **kwargs)


def test_an_anonymous_topic_names_its_author_to_nobody_but_the_author_and_stays_anonymous(trio):
    m, fay, ann, bob = trio
    settings(fay, m, show_authors=False)
    secret = topics.add_topic(ann, m.code, "Pay transparency").topic_id
    settings(fay, m, show_authors=True)  # turned back on: the topic keeps how it was written
    named = topics.add_topic(ann, m.code, "Lunch plans").topic_id
    assert Topic.get_by_id(secret).anonymous and not Topic.get_by_id(named).anonymous
    seen = boards(m, fay, ann, bob)
    assert "yours · anonymous to others" in card(seen["ann"], secret)
    for who in ("fay", "bob"):
        assert "anonymous" in card(seen[who], secret) and "Ann" not in card(seen[who], secret)
        assert "by <bdi>Ann</bdi>" in card(seen[who], named)
    assert load_board(m.id).topics[secret].author_name == ""  # never even read into the board
    # The edit and the summary and exports say "anonymous" too.
    push = build_push(topics.edit_topic(ann, m.code, secret, "Pay transparency now"), load_board(m.id), set())
    assert "yours" in push.frame_for(Viewer(ann.id, False, True))
    assert "Ann" not in push.frame_for(Viewer(bob.id, False, True))
    assert "anonymous" in push.frame_for(Viewer(bob.id, False, True))
    markdown, csv = to_markdown(build_summary(m.id)), to_csv(build_summary(m.id))
    assert "proposed by anonymous" in markdown and "proposed by Ann" in markdown  # the named one only
    line = next(row for row in csv.splitlines() if "Pay transparency now" in row)
    assert "Ann" not in line  # the CSV names no proposer at all
    assert [t.author for t in build_summary(m.id).not_discussed] == ["anonymous", "Ann"]


def private_meeting(trio):
    m, fay, ann, bob = trio
    settings(fay, m, private_writing=True)
    version = load_board(m.id).version
    first = topics.add_topic(ann, m.code, "Ann's secret wish")
    second = topics.add_topic(ann, m.code, "Ann's other wish")
    return m, fay, ann, bob, version, first, second


def test_while_writing_privately_each_sees_only_their_own_topics_and_how_many_others_wrote(trio):
    m, fay, ann, bob, version, first, second = private_meeting(trio)
    assert (first.version, second.version, load_board(m.id).version) == (None, None, version)  # no version tells
    assert (first.writers_changed, second.writers_changed) == (True, False)
    seen = boards(m, fay, ann, bob)
    assert "Ann&#39;s secret wish" in seen["ann"] and "Ann&#39;s other wish" in seen["ann"]
    assert "Only you see this until the topics are revealed." in seen["ann"] and "Nobody else has written yet." in seen["ann"]
    for who in ("fay", "bob", "room"):
        assert "wish" not in seen[who] and f"topic-{first.topic_id}" not in seen[who]
    assert "1 other person has written topics." in seen["bob"] and "Reveal all topics" in seen["fay"]
    assert 'id="count-to_discuss" class="count" aria-label="0 topics"' in seen["bob"]
    assert 'aria-label="2 topics"' in seen["ann"]
    summary = build_summary(m.id)
    assert summary.not_discussed == [] and "wish" not in to_markdown(summary) + to_csv(summary)
    # Frames: the author's tabs get their card; others nothing at all, unless the number of writers changed.
    state = load_board(m.id)
    for change, bob_gets in ((second, ""), (first, "1 other person has written topics.")):
        push = build_push(change, state, set())
        assert "wish" in push.frame_for(Viewer(ann.id, False, True))
        for viewer in (Viewer(bob.id, False, True), Viewer(fay.id, True, True)):
            frame = push.frame_for(viewer)
            assert "wish" not in frame and bob_gets in frame and (frame == "") == (bob_gets == "")
        assert push.frame_for(Viewer(None, screen="room")) == ""  # the room screen shows no such count


@pytest.mark.parametrize("attempt", ["vote", "unvote", "edit", "delete", "note", "move", "merge"])
def test_someone_else_s_unrevealed_topic_reads_as_one_that_does_not_exist(trio, attempt):
    m, fay, ann, bob, version, first, second = private_meeting(trio)
    tid = first.topic_id
    fay_topic = topics.add_topic(fay, m.code, "Fay's own").topic_id
    tries = {
        "vote": lambda who, t: votes.cast_vote(who, m.code, t),
        "unvote": lambda who, t: votes.remove_vote(who, m.code, t),
        "edit": lambda who, t: topics.edit_topic(who, m.code, t, "Peeked"),
        "delete": lambda who, t: topics.delete_topic(who, m.code, t),
        "note": lambda who, t: notes.add_note(who, m.code, t, "takeaway", "Peeked"),
        "move": lambda who, t: topics.move_topic(who, m.code, t, "discussing", expected="to_discuss"),
        "merge": lambda who, t: merging.merge_topics(who, m.code, t, fay_topic),
    }
    for who in (bob, fay):
        if attempt in ("move", "merge") and who is bob:
            continue  # Bob may not do these at all
        with pytest.raises(ActionRefused) as refused:
            tries[attempt](who, tid)
        with pytest.raises(ActionRefused) as missing:
            tries[attempt](who, 987654)
        # The same refusal, in the same words, as for a topic that does not exist: nothing tells it does.
        assert (refused.value.status, refused.value.message) == (missing.value.status, missing.value.message)
    assert Topic.get_by_id(tid).title == "Ann's secret wish" and Topic.get_by_id(tid).unrevealed


def test_its_author_cannot_vote_note_or_discuss_it_before_the_reveal(trio):
    m, fay, ann, bob, version, first, second = private_meeting(trio)
    with pytest.raises(Conflict, match="Voting opens once a facilitator reveals"):
        votes.cast_vote(ann, m.code, first.topic_id)
    with pytest.raises(Conflict, match="Takeaways come once the topics are revealed"):
        notes.add_note(ann, m.code, first.topic_id, "takeaway", "Mine")
    mine = topics.add_topic(fay, m.code, "Fay's private").topic_id  # a facilitator's own: no Move until revealed
    fay_card = card(full_board(load_board(m.id), Viewer(fay.id, True, True), set()), mine)
    assert "Fay&#39;s private" in fay_card and "Move to Discussing" not in fay_card and "Edit" in fay_card
    topics.edit_topic(ann, m.code, first.topic_id, "Ann's clearer wish")  # but may edit and delete it, quietly
    assert topics.delete_topic(ann, m.code, second.topic_id).version is None
    assert load_board(m.id).version == version


def test_open_voting_or_reveal_shows_every_topic_to_everyone_at_once(trio):
    m, fay, ann, bob, version, first, second = private_meeting(trio)
    topics.add_topic(bob, m.code, "Bob's wish")
    with pytest.raises(NotFound):
        topics.edit_topic(bob, m.code, first.topic_id, "Peeked")
    change = topics.reveal_topics(fay, m.code)
    assert change.kind == changes.TOPICS_REVEALED and not Topic.select().where(Topic.unrevealed).exists()
    with pytest.raises(Conflict, match="no topics waiting to be revealed"):
        topics.reveal_topics(fay, m.code)
    topics.add_topic(bob, m.code, "Bob's late wish")  # still collecting privately: this one waits for the next reveal
    assert Topic.get(Topic.title == "Bob's late wish").unrevealed
    facilitation.change_phase(fay, m.code, "voting", expected="collecting")
    seen = boards(m, fay, ann, bob)
    for who in ("fay", "bob", "room"):
        assert "Ann&#39;s secret wish" in seen[who] and "Bob&#39;s late wish" in seen[who]
    votes.cast_vote(bob, m.code, first.topic_id)
    assert len(build_summary(m.id).not_discussed) == 4


def test_turning_private_writing_off_or_finishing_reveals_what_was_written(trio):
    m, fay, ann, bob, version, first, second = private_meeting(trio)
    settings(fay, m, private_writing=False)
    assert not Topic.select().where(Topic.unrevealed).exists()
    settings(fay, m, private_writing=True)
    topics.add_topic(ann, m.code, "Before the end")
    meetings.change_meeting_status(fay, m.code, "completed", expected="planned")
    assert [t.title for t in build_summary(m.id).not_discussed][-1] == "Before the end"
    assert Meeting.get_by_id(m.id).private_writing  # the setting itself stays as chosen


def test_settings_without_javascript_keep_what_the_form_does_not_have(meeting):
    m, fay, ann, bob = meeting
    form = {"hidden_voting": "0", "timebox_pattern": "8m", "show_authors": ["0"], "private_writing": ["0", "1"]}
    assert fay.post(f"/m/{m.code}/settings", form, htmx=False).status_code == 303
    saved = Meeting.get_by_id(m.id)
    assert (saved.show_authors, saved.private_writing) == (False, True)
    assert fay.post(f"/m/{m.code}/settings", {"timebox_pattern": "8m"}, htmx=False).status_code == 303  # an older form
    assert (Meeting.get_by_id(m.id).show_authors, Meeting.get_by_id(m.id).private_writing) == (False, True)
    added = ann.post(f"/m/{m.code}/topics", {"title": "Quietly"}, htmx=False)
    tid = Topic.get(Topic.title == "Quietly").id
    assert added.status_code == 303 and "Quietly" in ann.get(f"/m/{m.code}").text
    assert "Quietly" not in bob.get(f"/m/{m.code}").text and "Quietly" not in fay.get(f"/m/{m.code}/summary").text
    # Deleting it without JavaScript asks first, in its author's words, and tells nobody else.
    asked = ann.post(f"/m/{m.code}/topics/{tid}/delete", {}, htmx=False)
    assert asked.status_code == 200 and "Delete “Quietly”?" in asked.text
    peek = bob.post(f"/m/{m.code}/topics/{tid}/delete", {}, htmx=False)
    assert peek.status_code == 404 and "Quietly" not in peek.text
    assert fay.post(f"/m/{m.code}/reveal", {}, htmx=False).status_code == 303
    assert "Quietly" in bob.get(f"/m/{m.code}").text
