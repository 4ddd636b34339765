"""Email over SMTP: one message per person, UTF-8 headers so Chinese names show right.

Settings come from the environment only (a password never sits in a file in the tree):

==================================  ==============================================
WECHAT_TRAINING_SMTP_HOST           required: the SMTP server
WECHAT_TRAINING_SMTP_PORT           default 587
WECHAT_TRAINING_SMTP_STARTTLS       1 (default): upgrade with STARTTLS; 0: plain
WECHAT_TRAINING_SMTP_USER           log in as this user (with the password below)
WECHAT_TRAINING_SMTP_PASSWORD
WECHAT_TRAINING_SMTP_FROM           required: the sender address
WECHAT_TRAINING_SMTP_FROM_NAME      default 合规培训 Compliance Training
WECHAT_TRAINING_SMTP_CAFILE         trust this CA (PEM) for STARTTLS, e.g. the
                                    company's internal CA; default: system CAs
==================================  ==============================================

STARTTLS always verifies the server's certificate and host name: a password
never goes to a server that cannot prove who it is.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from ..delivery import DeliveryError
from ..reminders import Reminder

PREFIX = "WECHAT_TRAINING_SMTP_"
DEFAULT_FROM_NAME = "合规培训 Compliance Training"


class SmtpSettingsError(ValueError):
    """The environment does not say how to reach the SMTP server."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    starttls: bool
    user: str
    password: str
    sender: str
    sender_name: str
    cafile: str = ""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> SmtpSettings:
        missing = [f"{PREFIX}{n}" for n in ("HOST", "FROM") if not environ.get(f"{PREFIX}{n}")]
        if missing:
            raise SmtpSettingsError(f"set {' and '.join(missing)} to send email (see `wechat-training remind --help`)")
        port_text = environ.get(f"{PREFIX}PORT", "587")
        if not port_text.isdigit():
            raise SmtpSettingsError(f"{PREFIX}PORT={port_text!r} is not a port number")
        starttls = environ.get(f"{PREFIX}STARTTLS", "1").strip().lower()
        if starttls not in ("1", "0", "true", "false", "yes", "no"):
            raise SmtpSettingsError(f"{PREFIX}STARTTLS={starttls!r}: use 1 or 0")
        user, password = environ.get(f"{PREFIX}USER", ""), environ.get(f"{PREFIX}PASSWORD", "")
        cafile = environ.get(f"{PREFIX}CAFILE", "")
        if cafile and not Path(cafile).is_file():
            raise SmtpSettingsError(f"{PREFIX}CAFILE={cafile!r}: no such file")
        if user and not password:
            raise SmtpSettingsError(f"{PREFIX}USER is set but {PREFIX}PASSWORD is not")
        sender = environ[f"{PREFIX}FROM"]
        if "@" not in sender:
            raise SmtpSettingsError(f"{PREFIX}FROM={sender!r} is not an email address")
        return cls(
            host=environ[f"{PREFIX}HOST"],
            port=int(port_text),
            starttls=starttls in ("1", "true", "yes"),
            user=user,
            password=password,
            sender=sender,
            sender_name=environ.get(f"{PREFIX}FROM_NAME", DEFAULT_FROM_NAME),
            cafile=environ.get(f"{PREFIX}CAFILE", ""),
        )


def email_message(reminder: Reminder, sender: str, sender_name: str = DEFAULT_FROM_NAME) -> EmailMessage:
    """The reminder as a MIME message. The Message-ID is derived from the reminder's key,
    so a copy sent twice can be recognised by the receiving side."""
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = Address(display_name=sender_name, addr_spec=sender)
    if reminder.email:
        message["To"] = Address(display_name=reminder.name, addr_spec=reminder.email)
    message["Subject"] = reminder.subject
    message["Date"] = format_datetime(_noon(reminder))
    digest = hashlib.sha256(reminder.key.encode()).hexdigest()[:32]
    message["Message-ID"] = f"<{digest}@{sender.split('@', 1)[1]}>"
    message["X-WeChat-Training-Reminder"] = reminder.key
    message["Content-Language"] = "zh-CN, en"
    message.set_content(reminder.body(), charset="utf-8")
    return message


def _noon(reminder: Reminder):
    from datetime import UTC, datetime, time

    return datetime.combine(reminder.day, time(12), tzinfo=UTC)


class SmtpChannel:
    """One SMTP connection for the run, reopened after a failure."""

    name = "email"
    idempotent = False

    def __init__(self, settings: SmtpSettings, *, timeout: float = 30.0):
        self.settings = settings
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def address(self, reminder: Reminder) -> str:
        if not reminder.email:
            raise DeliveryError(
                f"{reminder.recipient_id} {reminder.name} has no email address on the roster (邮箱/email column)",
                transient=False,
            )
        return reminder.email

    def send(self, reminder: Reminder) -> str:
        message = email_message(reminder, self.settings.sender, self.settings.sender_name)
        try:
            smtp = self._connection()
            refused = smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            self._drop()
            code, text = next(iter(exc.recipients.values()))
            raise DeliveryError(f"{reminder.email} refused: {code} {_text(text)}", transient=400 <= code < 500) from exc
        except smtplib.SMTPResponseException as exc:
            self._drop()
            raise DeliveryError(
                f"SMTP {exc.smtp_code} {_text(exc.smtp_error)}", transient=400 <= exc.smtp_code < 500
            ) from exc
        except ssl.SSLCertVerificationError as exc:  # retrying cannot make the server trustworthy
            self._drop()
            raise DeliveryError(f"SMTP {self.settings.host}:{self.settings.port}: {exc}", transient=False) from exc
        except (OSError, smtplib.SMTPException) as exc:  # refused, reset, timed out, disconnected
            self._drop()
            raise DeliveryError(f"SMTP {self.settings.host}:{self.settings.port}: {exc}", transient=True) from exc
        if refused:
            code, text = next(iter(refused.values()))
            raise DeliveryError(f"{reminder.email} refused: {code} {_text(text)}", transient=400 <= code < 500)
        return f"accepted by {self.settings.host} as {message['Message-ID']}"

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            s = self.settings
            smtp = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
            try:
                if s.starttls:
                    smtp.starttls(context=ssl.create_default_context(cafile=s.cafile or None))
                if s.user:
                    smtp.login(s.user, s.password)
            except BaseException:
                smtp.close()
                raise
            self._smtp = smtp
        return self._smtp

    def _drop(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None

    def close(self) -> None:
        self._drop()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
