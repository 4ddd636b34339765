"""The reminder log: what was sent to whom, so that nothing is sent twice.

Two tables of our own in the gradebook database, created through the
gradebook's engine (records may use it; nbgrader's tables are never touched):

- ``wt_reminder``: one row per message (key = day/kind/recipient): its state
  ``sending`` (intent recorded, outcome not yet), ``sent`` or ``failed``,
  with channel, address, number of tries and the last outcome;
- ``wt_reminder_try``: one row per delivery try: time, channel, outcome.

Delivery is at-most-once per message and day. The intent (``sending``) is
committed BEFORE the message goes out and the outcome after it. A run that
crashes between the two leaves the message ``sending``: the next run cannot
know whether it went out, so it does NOT send it again but reports it as in
doubt (`remind --retry-in-doubt` sends those again, for when HR has checked
they did not arrive). We chose that over at-least-once because a duplicate
reminder cannot be taken back while a doubtful one is named to HR; a crash
loses at most the one message in flight. Claiming a message is one atomic
INSERT (or an UPDATE of a failed row), so two runs at once never both send it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ..assessment import gradebook

SENDING = "sending"
SENT = "sent"
FAILED = "failed"

_metadata = sa.MetaData()

reminder_table = sa.Table(
    "wt_reminder",
    _metadata,
    sa.Column("key", sa.String(160), primary_key=True),  #: day/kind/recipient (Reminder.key)
    sa.Column("day", sa.String(10), nullable=False),  #: the as-of day the reminder is for
    sa.Column("kind", sa.String(16), nullable=False),  #: employee | manager
    sa.Column("recipient_id", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),  #: email | wecom | file (of the latest try)
    sa.Column("address", sa.Text, nullable=False),  #: email address, WeCom user id or file written; '' if none
    sa.Column("state", sa.String(16), nullable=False),  #: sending | sent | failed
    sa.Column("tries", sa.Integer, nullable=False),  #: delivery tries over all runs
    sa.Column("outcome", sa.Text, nullable=False),  #: last outcome, e.g. '250 OK' or the error
    sa.Column("claimed_at", sa.Text, nullable=False),  #: ISO UTC, when the latest run claimed it
    sa.Column("finished_at", sa.Text, nullable=True),  #: ISO UTC of the outcome; NULL while sending
)

try_table = sa.Table(
    "wt_reminder_try",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(160), nullable=False, index=True),  #: wt_reminder.key
    sa.Column("at", sa.Text, nullable=False),  #: ISO UTC
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("outcome", sa.Text, nullable=False),
)


@dataclass(frozen=True)
class LoggedReminder:
    key: str
    state: str
    channel: str
    tries: int
    outcome: str


class ReminderLog:
    """The log in one database (a gradebook SQLAlchemy URL)."""

    def __init__(self, db_url: str):
        self.engine = gradebook.engine_for(db_url)
        _metadata.create_all(self.engine)

    @staticmethod
    def peek(db_url: str) -> dict[str, LoggedReminder]:
        """The log's states without creating its tables (for a dry run)."""
        engine = gradebook.engine_for(db_url)
        if not sa.inspect(engine).has_table(reminder_table.name):
            return {}
        return ReminderLog(db_url).states()

    def states(self) -> dict[str, LoggedReminder]:
        with self.engine.connect() as conn:
            return {
                row.key: LoggedReminder(row.key, row.state, row.channel, row.tries, row.outcome)
                for row in conn.execute(sa.select(reminder_table))
            }

    def claim(self, key: str, *, day: str, kind: str, recipient_id: str, channel: str, retry_in_doubt: bool) -> bool:
        """Record the intent to send `key`; False when it was sent already, is in doubt
        (unless `retry_in_doubt`), or another run holds it."""
        now = gradebook.utc_text()
        fields = {"channel": channel, "state": SENDING, "claimed_at": now, "finished_at": None, "outcome": ""}
        with self.engine.begin() as conn:
            try:
                with conn.begin_nested():
                    conn.execute(
                        reminder_table.insert().values(
                            key=key, day=day, kind=kind, recipient_id=recipient_id, address="", tries=0, **fields
                        )
                    )
                return True
            except sa.exc.IntegrityError:
                pass
            again = [FAILED, SENDING] if retry_in_doubt else [FAILED]
            done = conn.execute(
                reminder_table.update()
                .where(reminder_table.c.key == key, reminder_table.c.state.in_(again))
                .values(**fields)
            )
            return done.rowcount == 1

    def record_try(self, key: str, channel: str, ok: bool, outcome: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                try_table.insert().values(key=key, at=gradebook.utc_text(), channel=channel, ok=ok, outcome=outcome)
            )
            conn.execute(
                reminder_table.update()
                .where(reminder_table.c.key == key)
                .values(tries=reminder_table.c.tries + 1, outcome=outcome)
            )

    def finish(self, key: str, state: str, address: str, outcome: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                reminder_table.update()
                .where(reminder_table.c.key == key)
                .values(state=state, address=address, outcome=outcome, finished_at=gradebook.utc_text())
            )

    def tries(self, key: str | None = None) -> list[dict]:
        """Every delivery try (of one message), oldest first."""
        query = sa.select(try_table).order_by(try_table.c.id)
        if key is not None:
            query = query.where(try_table.c.key == key)
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]
