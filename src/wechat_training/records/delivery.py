"""Sending a reminder plan through one channel: log first, retry with backoff, report per person.

Each reminder is claimed in the reminder log (intent), sent, and its outcome
recorded (see `reminder_log` for why that makes delivery at-most-once).
A transient failure (connection refused, SMTP 4xx, HTTP 5xx, WeCom's rate
limit answer) is retried after `backoff`, doubling each time, up to `retries`
more tries; a permanent one (no address, SMTP 5xx, a WeCom error code) fails
that person at once. Either way the others still go out. `sleep` is
injectable so the tests do not wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from .reminder_log import FAILED, SENDING, SENT, ReminderLog
from .reminders import Reminder, ReminderPlan

ALREADY = "already sent"
IN_DOUBT = "in doubt"


class DeliveryError(Exception):
    """A message could not be delivered; `transient` ones are worth retrying."""

    def __init__(self, message: str, *, transient: bool):
        super().__init__(message)
        self.transient = transient


class Channel(Protocol):
    """A way to deliver reminders (channels.smtp, channels.wecom, channels.files)."""

    name: str
    #: True when delivering the same message twice leaves one copy (a file rewritten in place):
    #: then a message left in doubt by a crash is simply delivered again.
    idempotent: bool

    def address(self, reminder: Reminder) -> str:
        """Where this reminder goes; raises DeliveryError(transient=False) when there is nowhere."""
        ...

    def send(self, reminder: Reminder) -> str:
        """Deliver one message; returns the outcome to log ('250 OK', 'errcode 0', a path)."""
        ...


@dataclass(frozen=True)
class Outcome:
    reminder: Reminder
    state: str  #: sent | failed | already sent | in doubt
    tries: int
    detail: str


@dataclass
class DeliveryReport:
    channel: str
    outcomes: list[Outcome] = field(default_factory=list)

    def _count(self, state: str) -> int:
        return sum(o.state == state for o in self.outcomes)

    @property
    def sent(self) -> int:
        return self._count(SENT)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.state == FAILED]

    @property
    def already(self) -> int:
        return self._count(ALREADY)

    @property
    def in_doubt(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.state == IN_DOUBT]


def deliver(
    plan: ReminderPlan,
    channel: Channel,
    log: ReminderLog,
    *,
    retries: int = 3,
    backoff: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    retry_in_doubt: bool = False,
    progress: Callable[[Outcome], None] | None = None,
) -> DeliveryReport:
    """Send every reminder of the plan not sent yet; never raises for one person's failure."""
    report = DeliveryReport(channel.name)
    known = log.states()
    for reminder in plan.reminders:
        outcome = _deliver_one(reminder, channel, log, known, retries, backoff, sleep, retry_in_doubt)
        report.outcomes.append(outcome)
        if progress is not None:
            progress(outcome)
    return report


def _deliver_one(
    reminder: Reminder,
    channel: Channel,
    log: ReminderLog,
    known: dict,
    retries: int,
    backoff: float,
    sleep: Callable[[float], None],
    retry_in_doubt: bool,
) -> Outcome:
    previous = known.get(reminder.key)
    if previous is not None and previous.state == SENT:
        return Outcome(reminder, ALREADY, previous.tries, f"{previous.outcome} ({previous.channel})")
    again = retry_in_doubt or channel.idempotent
    claimed = log.claim(
        reminder.key,
        day=reminder.day.isoformat(),
        kind=reminder.kind,
        recipient_id=reminder.recipient_id,
        channel=channel.name,
        retry_in_doubt=again,
    )
    if not claimed:
        state = log.states().get(reminder.key)
        if state is not None and state.state == SENT:
            return Outcome(reminder, ALREADY, state.tries, state.outcome)
        return Outcome(
            reminder,
            IN_DOUBT,
            state.tries if state else 0,
            "a run stopped while sending it (or another run is sending it now): it may have arrived; "
            "check, then rerun with --retry-in-doubt to send it again",
        )
    try:
        address = channel.address(reminder)
    except DeliveryError as exc:
        log.record_try(reminder.key, channel.name, False, str(exc))
        log.finish(reminder.key, FAILED, "", str(exc))
        return Outcome(reminder, FAILED, 1, str(exc))
    tries = 0
    while True:
        tries += 1
        try:
            detail = channel.send(reminder)
        except DeliveryError as exc:
            log.record_try(reminder.key, channel.name, False, str(exc))
            if exc.transient and tries <= retries:
                sleep(backoff * 2 ** (tries - 1))
                continue
            log.finish(reminder.key, FAILED, address, str(exc))
            return Outcome(reminder, FAILED, tries, str(exc))
        log.record_try(reminder.key, channel.name, True, detail)
        log.finish(reminder.key, SENT, address, detail)
        return Outcome(reminder, SENT, tries, detail)


__all__ = ["ALREADY", "FAILED", "IN_DOUBT", "SENDING", "SENT", "Channel", "DeliveryError", "DeliveryReport", "deliver"]
