"""Reminders by email to a real SMTP server (aiosmtpd) on loopback, parsed back."""

from __future__ import annotations

import email
from email import policy

import pytest
from aiosmtpd.controller import Controller
from browser import free_port
from click.testing import CliRunner
from reminder_book import AS_OF, CAMPAIGN, REPO, book

from wechat_training.cli import main
from wechat_training.records import delivery, reminders
from wechat_training.records.channels.smtp import SmtpChannel, SmtpSettings
from wechat_training.records.reminder_log import ReminderLog


class Mailbox:
    """An aiosmtpd handler keeping every accepted message; `refuse` first DATA commands get 451."""

    def __init__(self, refuse: int = 0):
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.raw: list[bytes] = []
        self.refuse = refuse

    async def handle_DATA(self, server, session, envelope):
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 Try again later"
        parsed = email.message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        self.raw.append(envelope.original_content)
        return "250 OK"


@pytest.fixture
def smtp_server():
    def start(refuse: int = 0):
        box = Mailbox(refuse)
        controller = Controller(box, hostname="127.0.0.1", port=free_port())
        controller.start()
        started.append(controller)
        return box, controller.port

    started: list[Controller] = []
    yield start
    for controller in started:
        controller.stop()


def _env(port: int) -> dict[str, str]:
    return {
        "WECHAT_TRAINING_SMTP_HOST": "127.0.0.1",
        "WECHAT_TRAINING_SMTP_PORT": str(port),
        "WECHAT_TRAINING_SMTP_STARTTLS": "0",
        "WECHAT_TRAINING_SMTP_FROM": "training@corp.example",
        "WECHAT_TRAINING_SMTP_FROM_NAME": "合规培训中心",
    }


def _remind(course, env, *args):
    return CliRunner().invoke(
        main,
        ["remind", "--via", "email", "--root", str(REPO), "--course-dir", str(course), "--campaign", str(CAMPAIGN),
         "--as-of", AS_OF.isoformat(), *args],
        env=env,
    )  # fmt: skip


def test_each_person_gets_one_email_with_chinese_names_and_none_on_the_second_run(reminder_course, smtp_server):
    """Does every employee with an address and the manager get exactly one message, with UTF-8 headers
    that decode to their Chinese names, the one without email named, and a rerun send nothing?"""
    course, url = reminder_course
    box, port = smtp_server()
    result = _remind(course, _env(port))
    assert result.exit_code == 1, result.output  # E103 has no email address
    assert "6 sent via email, 0 already sent, 1 failed, 0 in doubt" in result.stdout
    assert "failed: employee E103 王芳 after 1 try(s): E103 王芳 has no email address on the roster" in result.stderr
    recipients = sorted(rcpt for rcpts, _ in box.messages for rcpt in rcpts)
    assert recipients == sorted(
        [
            "ouyang.nana@corp.example",
            "sima.jianguo@corp.example",
            "li.lei@corp.example",
            "han.meimei@corp.example",
            "lin.mei@corp.example",
            "zhou.min@corp.example",
        ]
    )
    by_to = {m["To"].addresses[0].addr_spec: m for _, m in box.messages}
    nana = by_to["ouyang.nana@corp.example"]
    assert nana["To"].addresses[0].display_name == "欧阳娜娜"
    assert nana["From"].addresses[0].display_name == "合规培训中心"
    assert nana["Subject"] == "企业微信合规培训提醒 / WeCom compliance training reminder"
    text = nana.get_content()
    assert text.startswith("欧阳娜娜，您好：") and "https://training.corp.example/portal" in text
    digest = by_to["zhou.min@corp.example"]
    assert digest["Subject"].startswith("下属培训逾期汇总")
    assert all(name in digest.get_content() for name in ("欧阳娜娜", "司马建国", "王芳"))
    assert by_to["lin.mei@corp.example"]["To"].addresses[0].display_name == "Lin, Mei"

    again = _remind(course, _env(port))
    assert "0 sent via email, 6 already sent, 1 failed" in again.stdout
    assert len(box.messages) == 6
    log = ReminderLog(url)
    states = log.states()
    assert states["2027-01-20/employee/E101"].state == "sent" and states["2027-01-20/employee/E101"].channel == "email"
    assert states["2027-01-20/employee/E103"].state == "failed"
    assert {t["channel"] for t in log.tries()} == {"email"}


def test_headers_on_the_wire_are_encoded_words(reminder_course, smtp_server):
    """Are the Chinese display names and subject sent as RFC 2047 encoded words (7-bit headers)?"""
    course, url = reminder_course
    box, port = smtp_server()
    plan = reminders.plan_for_book(book(course), url)
    channel = SmtpChannel(SmtpSettings.from_environment(_env(port)))
    one = reminders.ReminderPlan(plan.day, [r for r in plan.reminders if r.recipient_id == "E101"])
    delivery.deliver(one, channel, ReminderLog(url))
    channel.close()
    (raw,) = box.raw
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert headers.isascii()
    to = next(line for line in headers.split(b"\r\n") if line.startswith(b"To:"))
    assert to.lower().startswith(b"to: =?utf-8?") and to.endswith(b"<ouyang.nana@corp.example>")


def test_a_server_that_refuses_twice_is_retried_with_backoff(reminder_course, smtp_server):
    """When the server answers 451 twice, is the message retried after growing pauses and delivered once?"""
    course, url = reminder_course
    box, port = smtp_server(refuse=2)
    plan = reminders.plan_for_book(book(course), url)
    first = reminders.ReminderPlan(plan.day, plan.reminders[:1])
    pauses: list[float] = []
    channel = SmtpChannel(SmtpSettings.from_environment(_env(port)))
    report = delivery.deliver(first, channel, ReminderLog(url), backoff=1.5, sleep=pauses.append)
    channel.close()
    (outcome,) = report.outcomes
    assert (outcome.state, outcome.tries) == ("sent", 3)
    assert pauses == [1.5, 3.0]
    assert len(box.messages) == 1
    assert [t["ok"] for t in ReminderLog(url).tries()] == [False, False, True]


def test_an_unreachable_server_fails_each_person_and_the_log_keeps_it(reminder_course):
    """With nothing listening, is every person reported failed after the retries, and a later run
    with a working server sends them?"""
    course, url = reminder_course
    plan = reminders.plan_for_book(book(course), url)
    dead = SmtpChannel(SmtpSettings.from_environment(_env(free_port())), timeout=2)
    report = delivery.deliver(plan, dead, ReminderLog(url), retries=1, sleep=lambda s: None)
    assert [o.state for o in report.outcomes] == ["failed"] * 7
    assert all(o.tries == 2 for o in report.outcomes if o.reminder.email)
    assert "Connection refused" in report.failed[0].detail


def test_a_crash_mid_run_resumes_without_duplicates(reminder_course, smtp_server):
    """If the run dies right after the server took the 3rd message, does the next run send the rest,
    never the first three again, and name the one caught mid-send as in doubt?"""
    course, url = reminder_course
    box, port = smtp_server()
    plan = reminders.plan_for_book(book(course), url)
    plan = reminders.ReminderPlan(plan.day, [r for r in plan.reminders if r.email])
    real = SmtpChannel(SmtpSettings.from_environment(_env(port)))

    class Crashing:
        name, idempotent = "email", False

        def __init__(self):
            self.sent = 0

        def address(self, reminder):
            return real.address(reminder)

        def send(self, reminder):
            detail = real.send(reminder)
            self.sent += 1
            if self.sent == 3:
                raise KeyboardInterrupt("power cut")  # after the server accepted it, before the log knows
            return detail

    with pytest.raises(KeyboardInterrupt):
        delivery.deliver(plan, Crashing(), ReminderLog(url))
    assert len(box.messages) == 3
    report = delivery.deliver(plan, real, ReminderLog(url))
    assert [o.state for o in report.outcomes] == ["already sent", "already sent", "in doubt", "sent", "sent", "sent"]
    keys = [m["X-WeChat-Training-Reminder"] for _, m in box.messages]
    assert len(keys) == 6 and len(set(keys)) == 6
    # HR checked: the doubtful one did arrive; a retry would be a duplicate, so it stays in doubt until asked.
    again = delivery.deliver(plan, real, ReminderLog(url), retry_in_doubt=True)
    assert [o.state for o in again.outcomes].count("sent") == 1
    real.close()


def test_starttls_with_login_verifies_the_server_and_sends(reminder_course, smtp_server, tmp_path):
    """With STARTTLS required and a login from the environment, does the message go out over TLS to a
    server whose certificate the configured CA file vouches for, and is a server it does not vouch
    for refused before the password is sent?"""
    import ssl
    import subprocess

    from aiosmtpd.smtp import AuthResult

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.login == b"hr-bot" and auth_data.password == b"s3cret-pw")

    box = Mailbox()
    port = free_port()
    controller = Controller(
        box, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
        auth_required=True, authenticator=authenticator,
    )  # fmt: skip
    controller.start()
    try:
        course, url = reminder_course
        env = {**_env(port), "WECHAT_TRAINING_SMTP_STARTTLS": "1", "WECHAT_TRAINING_SMTP_USER": "hr-bot",
               "WECHAT_TRAINING_SMTP_PASSWORD": "s3cret-pw"}  # fmt: skip
        untrusted = _remind(course, env)
        assert "0 sent via email" in untrusted.stdout and "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr
        assert "after 1 try(s)" in untrusted.stderr  # not retried: waiting will not make it trusted
        assert logins == []  # the password never left for an unverified server
        trusted = _remind(course, {**env, "WECHAT_TRAINING_SMTP_CAFILE": str(cert)})
        assert "6 sent via email" in trusted.stdout, trusted.output
        assert len(box.messages) == 6 and logins[-1] == (b"hr-bot", b"s3cret-pw")
    finally:
        controller.stop()


def test_missing_smtp_settings_are_named(tmp_path):
    """Without host and sender in the environment, does remind say which variables to set, before
    opening any database?"""
    course = tmp_path / "course"
    result = CliRunner().invoke(main, ["remind", "--via", "email", "--course-dir", str(course)], env={
        "WECHAT_TRAINING_SMTP_HOST": "", "WECHAT_TRAINING_SMTP_FROM": ""})  # fmt: skip
    assert not course.exists()
    assert result.exit_code == 1
    assert "set WECHAT_TRAINING_SMTP_HOST and WECHAT_TRAINING_SMTP_FROM to send email" in result.output
