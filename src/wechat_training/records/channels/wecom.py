"""The WeCom (企业微信) group robot: markdown messages to a group's webhook.

The robot's documented interface: POST JSON
``{"msgtype": "markdown", "markdown": {"content": "..."}}`` to
``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY``; it answers
``{"errcode": 0, "errmsg": "ok"}``. Content is at most 4,096 bytes (UTF-8), so a
longer reminder (a big manager digest) goes as several messages, split at line
ends. A robot takes at most 20 messages a minute: `RateLimiter` waits before the
21st (its clock and sleep are injectable), and errcode 45009 (limit exceeded)
counts as transient. The webhook URL holds the robot's key, a secret: it comes
from ``WECHAT_TRAINING_WECOM_WEBHOOK`` only.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Mapping

from ..delivery import DeliveryError
from ..reminders import Reminder

WEBHOOK_VARIABLE = "WECHAT_TRAINING_WECOM_WEBHOOK"
MAX_BYTES = 4096
PER_MINUTE = 20
RATE_LIMITED = 45009  #: errcode of "api freq out of limit"


class WeComSettingsError(ValueError):
    """The environment does not name the robot's webhook."""


def webhook_from_environment(environ: Mapping[str, str]) -> str:
    url = environ.get(WEBHOOK_VARIABLE, "").strip()
    if not url:
        raise WeComSettingsError(
            f"set {WEBHOOK_VARIABLE} to the group robot's webhook URL "
            "(https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...)"
        )
    if not url.startswith(("https://", "http://")):
        raise WeComSettingsError(f"{WEBHOOK_VARIABLE} is not an http(s) URL")
    return url


class RateLimiter:
    """At most `limit` events in any `window` seconds: `wait()` sleeps until the next one may go."""

    def __init__(
        self,
        limit: int = PER_MINUTE,
        window: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.limit, self.window = limit, window
        self.clock, self.sleep = clock, sleep
        self._sent: deque[float] = deque()

    def wait(self) -> None:
        while True:
            now = self.clock()
            while self._sent and now - self._sent[0] >= self.window:
                self._sent.popleft()
            if len(self._sent) < self.limit:
                self._sent.append(now)
                return
            self.sleep(self.window - (now - self._sent[0]))


def split_content(text: str, limit: int = MAX_BYTES) -> list[str]:
    """Pieces of at most `limit` UTF-8 bytes, cut at line ends (a single overlong line is cut at a character)."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line.encode()) > limit:
            cut = len(line.encode()[:limit].decode("utf-8", "ignore"))
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:cut])
            line = line[cut:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate.encode()) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current:
        pieces.append(current)
    return pieces


class WeComChannel:
    name = "wecom"
    idempotent = False

    def __init__(self, webhook: str, *, limiter: RateLimiter | None = None, timeout: float = 10.0):
        self.webhook = webhook
        self.limiter = limiter or RateLimiter()
        self.timeout = timeout
        self._parts_sent: dict[str, int] = {}

    def address(self, reminder: Reminder) -> str:
        # Nobody is left out: without a WeCom id on the roster the message names the person unmentioned.
        return reminder.wecom_userid or f"(no WeCom id) {reminder.recipient_id}"

    def send(self, reminder: Reminder) -> str:
        parts = split_content(reminder.markdown())
        # A retry after a part failed goes on from that part, so the group sees each part once.
        start = self._parts_sent.get(reminder.key, 0)
        for index in range(start, len(parts)):
            self._post(parts[index])
            self._parts_sent[reminder.key] = index + 1
        return f"errcode 0, {len(parts)} message(s)"

    def _post(self, content: str) -> None:
        body = json.dumps({"msgtype": "markdown", "markdown": {"content": content}}, ensure_ascii=False)
        request = urllib.request.Request(
            self.webhook,
            data=body.encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8"},
            method="POST",
        )
        self.limiter.wait()
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = response.read()
        except urllib.error.HTTPError as exc:
            raise DeliveryError(
                f"webhook answered HTTP {exc.code}", transient=exc.code >= 500 or exc.code == 429
            ) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise DeliveryError(f"webhook unreachable: {getattr(exc, 'reason', exc)}", transient=True) from exc
        try:
            result = json.loads(answer)
            code, message = int(result.get("errcode", -1)), str(result.get("errmsg", ""))
        except (ValueError, AttributeError, TypeError) as exc:
            raise DeliveryError(
                f"webhook answered something that is not the robot's JSON: {answer[:80]!r}", transient=True
            ) from exc
        if code != 0:
            raise DeliveryError(f"WeCom errcode {code}: {message}", transient=code == RATE_LIMITED)
