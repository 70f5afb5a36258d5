"""Issue 19, facilitators who can't be lost: co-facilitators, the last facilitator kept, namesakes told apart."""

from html import unescape

import pytest

from leancoffee.models import FACILITATOR, PARTICIPANT, Participant
from leancoffee.services import facilitation, meetings, roles, topics
from leancoffee.services.board import load_board
from leancoffee.services.errors import Conflict, Forbidden, Invalid, NotFound
from leancoffee.services.summary import build_summary, to_csv, to_markdown


def role_of(m, user) -> str:
    return Participant.get((Participant.meeting == m.id) & (Participant.user == user.id)).role


def test_a_co_facilitator_can_do_everything_the_facilitator_can_and_take_it_back_from_them(trio):
    m, fay, ann, bob = trio
    with pytest.raises(Forbidden, match="Only a facilitator"):
        facilitation.change_phase(ann, m.code, "voting", expected="collecting")
    roles.set_role(fay, m.code, ann.id, FACILITATOR)
    assert (role_of(m, fay), role_of(m, ann), role_of(m, bob)) == (FACILITATOR, FACILITATOR, PARTICIPANT)
    facilitation.change_phase(ann, m.code, "voting", expected="collecting")
    tid = topics.add_topic(bob, m.code, "Bob's topic").topic_id
    topics.edit_topic(ann, m.code, tid, "Edited by a co-facilitator")  # a facilitator edits anyone's topic
    roles.set_role(ann, m.code, fay.id, PARTICIPANT)  # and takes the role back from the meeting's creator
    assert role_of(m, fay) == PARTICIPANT
    with pytest.raises(Forbidden, match="Only a facilitator"):
        facilitation.change_phase(fay, m.code, "collecting", expected="voting")
    with pytest.raises(Forbidden, match="Only a facilitator"):
        roles.set_role(bob, m.code, bob.id, FACILITATOR)  # nobody makes themselves one
    state = load_board(m.id)
    assert state.facilitator_ids == {ann.id} and state.meeting.phase == "voting"


def test_the_last_facilitator_can_neither_leave_nor_step_down(trio):
    m, fay, ann, bob = trio
    version = load_board(m.id).version
    with pytest.raises(Conflict, match="A meeting always keeps a facilitator"):
        roles.set_role(fay, m.code, fay.id, PARTICIPANT)
    with pytest.raises(Conflict, match="before you leave"):
        meetings.leave_meeting(fay, m.code)
    assert role_of(m, fay) == FACILITATOR and Participant.get(Participant.user == fay.id).is_active
    assert load_board(m.id).version == version  # nothing half-written
    roles.set_role(fay, m.code, ann.id, FACILITATOR)
    meetings.leave_meeting(fay, m.code)  # Ann still runs the meeting
    with pytest.raises(Conflict, match="before you step down"):
        roles.set_role(ann, m.code, ann.id, PARTICIPANT)
    with pytest.raises(Conflict, match="before you leave"):
        meetings.leave_meeting(ann, m.code)
    meetings.join_meeting(fay, m.code, "Fay")  # a facilitator who left comes back as one
    assert load_board(m.id).facilitator_ids == {fay.id, ann.id}
    roles.set_role(ann, m.code, ann.id, PARTICIPANT)  # now there is another: stepping down works
    assert load_board(m.id).facilitator_ids == {fay.id}


@pytest.mark.parametrize(("person", "role", "error", "message"), [
    ("ann", "boss", Invalid, "Choose to make someone"),
    ("nobody", FACILITATOR, NotFound, "not in this meeting"),
    ("x", FACILITATOR, NotFound, "not in this meeting"),
    ("99999999999999999999999", FACILITATOR, NotFound, "not in this meeting"),
    ("fay", FACILITATOR, Conflict, "Fay is already a facilitator"),
    ("bob", PARTICIPANT, Conflict, "Bob is already not a facilitator"),
    ("left", FACILITATOR, NotFound, "they may have left"),
])
def test_bad_role_changes_are_refused_clearly_and_change_nothing(trio, person, role, error, message):
    m, fay, ann, bob = trio
    eve = meetings.create_user("Eve")
    meetings.join_meeting(eve, m.code, "Eve")
    meetings.leave_meeting(eve, m.code)
    ids = {"ann": ann.id, "fay": fay.id, "bob": bob.id, "left": eve.id, "nobody": 424242}
    before = (load_board(m.id).version, load_board(m.id).facilitator_ids)
    with pytest.raises(error, match=message):
        roles.set_role(fay, m.code, ids.get(person, person), role)
    assert (load_board(m.id).version, load_board(m.id).facilitator_ids) == before


def test_namesakes_are_numbered_by_join_order_everywhere_and_keep_their_number(trio):
    m, fay, ann, bob = trio
    ann2, ann3 = meetings.create_user("Ann"), meetings.create_user("Ann")
    meetings.join_meeting(ann2, m.code, "Ann")
    meetings.join_meeting(ann3, m.code, "Ann")
    topics.add_topic(ann2, m.code, "Second Ann's topic")
    meetings.leave_meeting(ann, m.code)
    meetings.join_meeting(ann, m.code, "Ann")  # back with the same name: still the first Ann
    meetings.leave_meeting(ann3, m.code)
    meetings.join_meeting(ann3, m.code, "Annie")  # a new name is numbered among its own namesakes
    state = load_board(m.id)
    assert [p.label for p in state.participants] == ["Fay", "Ann", "Bob", "Ann (2)", "Annie"]
    assert [t.author_name for t in state.topics.values()] == ["Ann (2)"]
    summary = build_summary(m.id)
    assert summary.attendees == ["Fay", "Ann", "Bob", "Ann (2)", "Annie"]
    markdown = to_markdown(summary)  # Markdown escapes the brackets
    assert "- Ann \\(2\\)" in markdown and "proposed by Ann \\(2\\)" in markdown
    assert ",Ann (2)," in to_csv(summary)
    latecomer = meetings.create_user("Ann")
    meetings.join_meeting(latecomer, m.code, "Ann")  # numbered after the Anns there are (Annie is not one now)
    assert [p.label for p in load_board(m.id).participants] == ["Fay", "Ann", "Bob", "Ann (2)", "Annie", "Ann (3)"]


def test_a_co_facilitator_is_made_without_javascript_and_sees_the_controls(meeting):
    m, fay, ann, bob = meeting
    ann_id = Participant.get((Participant.meeting == m.id) & (Participant.name == "Ann")).user_id
    assert "Open voting" not in ann.get(f"/m/{m.code}").text
    refused = bob.post(f"/m/{m.code}/role", {"person": str(ann_id), "role": "facilitator"}, htmx=False)
    assert refused.status_code == 403 and "Only a facilitator can do that." in refused.text
    made = fay.post(f"/m/{m.code}/role", {"person": str(ann_id), "role": "facilitator"}, htmx=False)
    assert made.status_code == 303 and made.headers["Location"].startswith(f"/m/{m.code}")
    page = unescape(ann.get(f"/m/{m.code}").text)
    assert "Open voting" in page and page.count('<span class="tag">facilitator</span>') == 2
    assert "Facilitators (2)" in page and "Take back" in page and "Step down" in page
    assert "Make co-facilitator" in page and '<option value="' in page  # Bob may still be made one
    assert "you facilitate" in ann.get("/").text
    # Fay leaves (Ann keeps the meeting); the last one is refused with the reason, on a page of its own.
    assert fay.post(f"/m/{m.code}/leave", {"confirmed": "1"}, htmx=False).status_code == 303
    last = ann.post(f"/m/{m.code}/leave", {"confirmed": "1"}, htmx=False)
    assert last.status_code == 409 and "make someone a co-facilitator before you leave" in unescape(last.text)
    assert Participant.get(Participant.user == ann_id).is_active
    bad = ann.post(f"/m/{m.code}/role", {"person": "<script>", "role": "facilitator"}, htmx=True)
    assert bad.status_code == 404 and "not in this meeting" in bad.text


def labels(m) -> list[str]:
    return [p.label for p in Participant.select().where(Participant.meeting == m.id).order_by(Participant.id)]


def test_a_name_typed_with_a_number_never_shows_the_same_label_as_a_namesake_on_join_or_rename(trio):
    m, fay, ann, bob = trio
    ann2, typed, bob_typed, bob2, cara = (meetings.create_user(n) for n in ("Ann", "Ann (2)", "Bob (2)", "Bob", "Cara"))
    meetings.join_meeting(ann2, m.code, "Ann")
    meetings.join_meeting(typed, m.code, "Ann (2)")  # the second Ann shows "Ann (2)" already: numbered
    meetings.join_meeting(bob_typed, m.code, "Bob (2)")  # nobody shows it yet: kept as typed
    meetings.join_meeting(bob2, m.code, "Bob")  # the second Bob skips the number a typed name shows
    meetings.join_meeting(cara, m.code, "Cara")
    meetings.leave_meeting(bob_typed, m.code)  # someone who left still shows on topics and in the summary
    meetings.join_meeting(cara, m.code, "Bob (2)")  # a rename is numbered the same way
    assert labels(m) == ["Fay", "Ann", "Bob", "Ann (2)", "Ann (2) (2)", "Bob (2)", "Bob (3)", "Bob (2) (2)"]
    meetings.join_meeting(cara, m.code, "Bob (2)")  # the same name again keeps its number
    meetings.join_meeting(ann, m.code, "Ann (2)")  # Ann renamed to her namesake's label: numbered after the others
    assert labels(m) == ["Fay", "Ann (2) (3)", "Bob", "Ann (2)", "Ann (2) (2)", "Bob (2)", "Bob (3)", "Bob (2) (2)"]
    assert build_summary(m.id).attendees.count("Ann (2)") == 1


def test_the_room_link_renewal_leave_and_add_a_topic_follow_who_facilitates_on_the_page(meeting):
    m, fay, ann, bob = meeting
    ann_id = Participant.get((Participant.meeting == m.id) & (Participant.name == "Ann")).user_id
    alone = fay.client.get(f"/m/{m.code}").text
    assert "data-last-facilitator" in alone and m.room_secret in alone and "data-facilitating" in alone
    participant = ann.client.get(f"/m/{m.code}").text
    assert m.room_secret not in participant and "Renew room link" not in participant and 'id="share"' in participant
    assert "data-facilitating" not in participant and "data-last-facilitator" not in participant
    fay.post(f"/m/{m.code}/role", {"person": str(ann_id), "role": "facilitator"})
    for page in (fay.client.get(f"/m/{m.code}").text, ann.client.get(f"/m/{m.code}").text):
        assert "data-last-facilitator" not in page and m.room_secret in page and "data-facilitating" in page
    assert m.room_secret not in bob.client.get(f"/m/{m.code}").text
    renewed = ann.post(f"/m/{m.code}/room-link")  # the renewal's answer is the same section, with the new link
    secret = Participant.get(Participant.user == ann_id).meeting.room_secret
    assert renewed.status_code == 200 and secret != m.room_secret and f"/room/{secret}" in renewed.text
    assert 'id="share"' in renewed.text and "Renew room link" in renewed.text
