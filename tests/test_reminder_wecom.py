"""Reminders through the WeCom group robot, against a local HTTP receiver that checks the
documented JSON body, the 4,096-byte limit and the 20-messages-a-minute limit."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from browser import free_port
from click.testing import CliRunner
from reminder_book import AS_OF, CAMPAIGN, REPO, book

from wechat_training.cli import main
from wechat_training.records import delivery, reminders
from wechat_training.records.channels.wecom import MAX_BYTES, RateLimiter, WeComChannel, split_content
from wechat_training.records.reminder_log import ReminderLog


class FakeClock:
    """Shared by the sender's rate limiter and the receiver, so a minute passes without waiting one."""

    def __init__(self):
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Robot:
    """What the receiver accepted and refused; `fail_first` requests get HTTP 500; content
    containing `always_fail_on` always does."""

    def __init__(self, clock: FakeClock, fail_first: int = 0, always_fail_on: str | None = None):
        self.clock, self.fail_first, self.always_fail_on = clock, fail_first, always_fail_on
        self.accepted: list[str] = []
        self.refused: list[tuple[int, str]] = []
        self.requests = 0
        self._times: list[float] = []


def _handler(robot: Robot):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            robot.requests += 1
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path != "/cgi-bin/webhook/send?key=test-key":
                return self._answer(404, {"errcode": 93000, "errmsg": "invalid webhook url"})
            try:
                body = json.loads(raw)
                ok = (
                    self.headers["Content-Type"].startswith("application/json")
                    and set(body) == {"msgtype", "markdown"}
                    and body["msgtype"] == "markdown"
                    and set(body["markdown"]) == {"content"}
                    and isinstance(body["markdown"]["content"], str)
                )
            except (ValueError, TypeError):
                ok = False
            if not ok:
                robot.refused.append((40008, raw.decode()))
                return self._answer(200, {"errcode": 40008, "errmsg": "invalid message type"})
            content = body["markdown"]["content"]
            if len(content.encode("utf-8")) > MAX_BYTES:
                robot.refused.append((40058, content))
                return self._answer(200, {"errcode": 40058, "errmsg": "content exceed max length"})
            if robot.fail_first > 0 or (robot.always_fail_on and robot.always_fail_on in content):
                robot.fail_first -= 1
                return self._answer(500, {"errcode": -1, "errmsg": "system busy"})
            now = robot.clock()
            recent = [t for t in robot._times if now - t < 60]
            if len(recent) >= 20:
                robot.refused.append((45009, content))
                return self._answer(200, {"errcode": 45009, "errmsg": "api freq out of limit"})
            robot._times.append(now)
            robot.accepted.append(content)
            return self._answer(200, {"errcode": 0, "errmsg": "ok"})

        def _answer(self, status, payload):
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@pytest.fixture
def robot_server():
    servers = []

    def start(robot: Robot) -> str:
        port = free_port()
        server = ThreadingHTTPServer(("127.0.0.1", port), _handler(robot))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{port}/cgi-bin/webhook/send?key=test-key"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _many(plan: reminders.ReminderPlan, n: int) -> reminders.ReminderPlan:
    """n distinct employee reminders (copies of E101's under new ids)."""
    from dataclasses import replace

    e101 = next(r for r in plan.employees if r.recipient_id == "E101")
    return reminders.ReminderPlan(plan.day, [replace(e101, recipient_id=f"X{i:03d}") for i in range(n)])


def test_cli_posts_the_documented_markdown_body_with_mentions(reminder_course, robot_server):
    """Does `remind --via wecom` post one markdown message per person to the webhook, @-mentioning
    those with a WeCom id on the roster and naming the others?"""
    course, url = reminder_course
    robot = Robot(FakeClock())
    webhook = robot_server(robot)
    result = CliRunner().invoke(
        main,
        ["remind", "--via", "wecom", "--root", str(REPO), "--course-dir", str(course), "--campaign", str(CAMPAIGN),
         "--as-of", AS_OF.isoformat()],
        env={"WECHAT_TRAINING_WECOM_WEBHOOK": webhook},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "7 sent via wecom" in result.stdout
    assert robot.refused == [] and len(robot.accepted) == 7
    nana = next(c for c in robot.accepted if "欧阳娜娜" in c and "企业微信合规培训提醒" in c)
    assert "<@ouyang.nana> 欧阳娜娜（E101）" in nana and "[进入培训平台](https://training.corp.example/portal)" in nana
    sima = next(c for c in robot.accepted if "司马建国（E102）" in c and "提醒" in c)
    assert "<@" not in sima  # no WeCom id on the roster: named, not mentioned
    digest = next(c for c in robot.accepted if c.startswith("**下属培训逾期汇总"))
    assert digest.splitlines()[1] == "<@zhoumin> 周敏（M001）"
    again = CliRunner().invoke(
        main,
        ["remind", "--via", "wecom", "--root", str(REPO), "--course-dir", str(course), "--campaign", str(CAMPAIGN),
         "--as-of", AS_OF.isoformat()],
        env={"WECHAT_TRAINING_WECOM_WEBHOOK": webhook},
    )  # fmt: skip
    assert "0 sent via wecom, 7 already sent" in again.stdout and len(robot.accepted) == 7


def test_twenty_five_messages_respect_the_robots_minute_limit(reminder_course, robot_server):
    """Are 25 messages all accepted by a receiver that refuses the 21st within a minute, because the
    sender waits (on an injected clock) instead of sending it early?"""
    course, url = reminder_course
    clock = FakeClock()
    robot = Robot(clock)
    channel = WeComChannel(robot_server(robot), limiter=RateLimiter(clock=clock, sleep=clock.sleep))
    plan = _many(reminders.plan_for_book(book(course), url), 25)
    report = delivery.deliver(plan, channel, ReminderLog(url), sleep=clock.sleep)
    assert report.sent == 25 and robot.refused == []
    assert len(clock.slept) == 1 and clock.slept[0] == pytest.approx(60.0)


def test_the_receiver_really_enforces_the_limit(reminder_course, robot_server):
    """Without the sender's limiter, does the receiver answer errcode 45009 to the 21st message,
    which the sender retries after backing off?"""
    course, url = reminder_course
    clock = FakeClock()
    robot = Robot(clock)
    unlimited = RateLimiter(limit=1000, clock=clock, sleep=clock.sleep)
    channel = WeComChannel(robot_server(robot), limiter=unlimited)
    plan = _many(reminders.plan_for_book(book(course), url), 21)
    report = delivery.deliver(plan, channel, ReminderLog(url), sleep=clock.sleep, backoff=20, retries=3)
    assert [code for code, _ in robot.refused] == [45009, 45009]  # refused at +0 s and +20 s, taken at +60 s
    assert report.sent == 21 and report.outcomes[-1].tries == 3


def test_a_webhook_failing_twice_is_retried_and_one_always_failing_does_not_stop_the_others(
    reminder_course, robot_server
):
    """Is a message that gets HTTP 500 twice delivered on the third try, and is the person whose
    message always fails reported while everyone after them still gets theirs?"""
    course, url = reminder_course
    clock = FakeClock()
    robot = Robot(clock, fail_first=2, always_fail_on="司马建国（E102）")
    channel = WeComChannel(robot_server(robot), limiter=RateLimiter(clock=clock, sleep=clock.sleep))
    plan = reminders.plan_for_book(book(course), url)
    report = delivery.deliver(plan, channel, ReminderLog(url), sleep=clock.sleep, backoff=1, retries=3)
    states = {(o.reminder.kind, o.reminder.recipient_id): (o.state, o.tries) for o in report.outcomes}
    assert states[("employee", "E101")] == ("sent", 3)
    assert states[("employee", "E102")] == ("failed", 4)
    assert report.failed[0].detail == "webhook answered HTTP 500"
    assert sum(state == "sent" for state, _ in states.values()) == 6
    assert clock.slept[:2] == [1, 2]


def test_a_long_digest_is_split_into_messages_of_at_most_4096_bytes(reminder_course, robot_server):
    """Does a manager digest of 120 reports arrive as several robot messages, each within 4,096
    bytes, together naming every report once?"""
    from dataclasses import replace

    course, url = reminder_course
    clock = FakeClock()
    robot = Robot(clock)
    plan = reminders.plan_for_book(book(course), url)
    digest = plan.managers[0]
    item = digest.items[0]
    items = tuple(replace(item, employee_id=f"E{i:04d}", name=f"员工{i:04d}") for i in range(120))
    big = reminders.ReminderPlan(plan.day, [replace(digest, items=items)])
    channel = WeComChannel(robot_server(robot), limiter=RateLimiter(clock=clock, sleep=clock.sleep))
    report = delivery.deliver(big, channel, ReminderLog(url), sleep=clock.sleep)
    assert report.sent == 1 and robot.refused == []
    assert len(robot.accepted) > 2
    assert all(len(c.encode()) <= MAX_BYTES for c in robot.accepted)
    joined = "\n".join(robot.accepted)
    assert all(joined.count(f"员工{i:04d} (E{i:04d},") == 2 for i in range(120))  # once in Chinese, once in English


def test_split_content_cuts_at_line_ends_and_inside_an_overlong_line():
    """Are pieces cut at newlines where possible and never inside a UTF-8 character?"""
    assert split_content("ab\ncd\nef", limit=5) == ["ab\ncd", "ef"]
    assert split_content("合规培训", limit=7) == ["合规", "培训"]
    assert split_content("", limit=5) == []


def test_rate_limiter_waits_only_when_the_window_is_full():
    """Does the limiter let 20 through at once and hold the 21st until the first is a minute old?"""
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    for _ in range(20):
        limiter.wait()
        clock.now += 1
    assert clock.slept == []
    limiter.wait()
    assert clock.slept == [pytest.approx(40.0)]
