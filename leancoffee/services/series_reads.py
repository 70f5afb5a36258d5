"""What the read API tells of series beyond their page (services/series.py): which series each meeting belongs to."""

from leancoffee.models import Meeting, Series


def series_codes(meetings: list[Meeting]) -> dict[int, str]:
    """The series code of each meeting that belongs to a series, by meeting id: one query for a whole page of meetings."""
    ids = {m.series_id for m in meetings if m.series_id}
    codes = dict(Series.select(Series.id, Series.code).where(Series.id.in_(ids)).tuples()) if ids else {}
    return {m.id: codes[m.series_id] for m in meetings if m.series_id in codes}
