"""What happened inside a change's transaction that others want to hear of in that same transaction.

A topic reaching Discussed and a meeting finishing are told here by the services that cause them;
the webhooks (leancoffee/webhooks/queue.py) listen and queue their deliveries in the same transaction,
so a delivery exists exactly when its change committed. This module imports nothing of the
services, so any of them may tell it.
"""

from collections.abc import Callable

TOPIC_DISCUSSED, MEETING_FINISHED = "topic_discussed", "meeting_finished"
_listeners: dict[str, list[Callable]] = {TOPIC_DISCUSSED: [], MEETING_FINISHED: []}


def listen(kind: str, listener: Callable) -> None:
    """Call `listener(meeting, topic_id)` inside every transaction where `kind` happens (once per listener)."""
    if listener not in _listeners[kind]:
        _listeners[kind].append(listener)


def tell(kind: str, meeting, topic_id: int | None = None) -> None:
    """Inside the change's transaction: `kind` happened to `meeting` (and topic `topic_id`)."""
    for listener in _listeners[kind]:
        listener(meeting, topic_id)
