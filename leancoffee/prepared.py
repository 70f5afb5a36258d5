"""Peewee queries compiled to SQL once, then run with fresh values: for the few queries every vote runs.

Building a query's SQL costs peewee more than SQLite takes to run it (about 0.2 ms a query, half of a
vote's database time): a `Prepared` builds and compiles its query on first use for each database and
afterwards only puts the new values in place of the old ones. Likewise peewee's result wrapper works out
how to turn the columns into rows once per query shape here, not once per cursor.

What this relies on in peewee 4.5.3, each checked by tests/test_prepared.py: `query.sql()` returns the
SQL and its parameters in order, with every value given to the query among them; `db.execute_sql` runs
them; `query._get_cursor_wrapper(cursor)` turns a cursor into the query's rows, and its wrapper keeps
what it worked out from the columns in attributes other than those in _PER_CURSOR, with `initialized`
saying it did.
"""

from collections.abc import Callable

from leancoffee.db import db

# Stand-ins for the values on the first compile: found again among the compiled parameters. Large and
# odd enough never to be a constant of the query itself (like the 1 of a LIMIT).
_STAND_INS = {int: lambda i: -7_340_000_000_000 - i, str: lambda i: f"\x00prepared value {i}\x00"}
# Attributes of peewee's result wrapper that belong to one cursor; the rest it works out from the
# query's columns on the first row, the same every time (see Prepared.rows).
_PER_CURSOR = frozenset({"cursor", "count", "index", "initialized", "populated", "row_cache"})


class Prepared:
    """A query shape: `build(*values)` returns the peewee query; the values must be ints or strs."""

    def __init__(self, build: Callable):
        self.build = build
        self._compiled: dict = {}
        # By compiled query: what its result wrapper worked out from the columns (peewee redoes it per cursor).
        self._layouts: dict[int, dict] = {}

    def _compile(self, values: tuple):
        types = tuple(type(v) for v in values)
        # The database object itself, not its id(): a later database (tests open many) may reuse a
        # collected one's id, and a query compiled for SQLite's placeholders fails on PostgreSQL.
        key = (db.obj, types)
        compiled = self._compiled.get(key)
        if compiled is None:
            stand_ins = [_STAND_INS[t](i) for i, t in enumerate(types)]
            query = self.build(*stand_ins)
            sql, params = query.sql()
            slots = [(p, stand_ins.index(v)) for p, v in enumerate(params) if v in stand_ins and type(v) in types]
            if sorted({i for _, i in slots}) != list(range(len(values))):
                raise ValueError(f"every value must reach the SQL once at least: {sql}")
            compiled = self._compiled[key] = (query, sql, params, slots)
        return compiled

    def cursor(self, *values):
        """Run the query with these values; returns (query, DB-API cursor)."""
        query, sql, params, slots = self._compile(values)
        bound = list(params)
        for position, index in slots:
            bound[position] = values[index]
        return query, db.execute_sql(sql, bound)

    def rows(self, *values) -> list:
        """Every row, shaped as the query says (model instances, tuples...)."""
        query, cursor = self.cursor(*values)
        wrapper = query._get_cursor_wrapper(cursor)
        layout = self._layouts.get(id(query))
        if layout is not None:
            wrapper.__dict__.update(layout)
            wrapper.initialized = True
        rows = list(wrapper)
        if layout is None and wrapper.initialized:
            self._layouts[id(query)] = {k: v for k, v in vars(wrapper).items() if k not in _PER_CURSOR}
        return rows

    def first(self, *values):
        """The first row, or None."""
        rows = self.rows(*values)
        return rows[0] if rows else None

    def rowcount(self, *values) -> int:
        """Rows changed (for UPDATE and DELETE)."""
        return self.cursor(*values)[1].rowcount
