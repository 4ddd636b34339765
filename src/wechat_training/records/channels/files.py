"""Reminders as files, for companies that send through their own system.

A directory gets one RFC 5322 `.eml` file per message (named after the
reminder key, rewritten in place, so delivering a message twice leaves one
file); a path ending in `.jsonl` gets one JSON object per line, appended
(each line carries the key, so a consumer can drop a repeated one).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..reminders import Reminder
from .smtp import DEFAULT_FROM_NAME, email_message

DEFAULT_SENDER = "training@corp.example"


class FileChannel:
    name = "file"

    def __init__(self, out: Path, *, sender: str = DEFAULT_SENDER, sender_name: str = DEFAULT_FROM_NAME):
        self.out = Path(out)
        self.jsonl = self.out.suffix.lower() == ".jsonl"
        self.idempotent = not self.jsonl
        self.sender, self.sender_name = sender, sender_name
        (self.out.parent if self.jsonl else self.out).mkdir(parents=True, exist_ok=True)

    def address(self, reminder: Reminder) -> str:
        return str(self.out if self.jsonl else self._eml_path(reminder))

    def send(self, reminder: Reminder) -> str:
        if self.jsonl:
            line = json.dumps(_record(reminder), ensure_ascii=False)
            with self.out.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            return f"appended to {self.out}"
        path = self._eml_path(reminder)
        partial = path.with_suffix(".eml.part")
        partial.write_bytes(email_message(reminder, self.sender, self.sender_name).as_bytes())
        os.replace(partial, path)
        return f"wrote {path.name}"

    def _eml_path(self, reminder: Reminder) -> Path:
        return self.out / (reminder.key.replace("/", "_") + ".eml")


def _record(reminder: Reminder) -> dict:
    return {
        "key": reminder.key,
        "kind": reminder.kind,
        "day": reminder.day.isoformat(),
        "employee_id": reminder.recipient_id,
        "name": reminder.name,
        "email": reminder.email,
        "wecom_userid": reminder.wecom_userid,
        "subject": reminder.subject,
        "body": reminder.body(),
        "items": [
            {
                "employee_id": i.employee_id,
                "module_id": i.module_id,
                "state": i.state,
                "due_date": i.due_date.isoformat() if i.due_date else None,
                "valid_until": i.valid_until.isoformat() if i.valid_until else None,
            }
            for i in reminder.items
        ],
    }
