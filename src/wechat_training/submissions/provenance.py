"""Who wrote a store file: keys, submission ids and signatures (issue 15).

Interface (the serving side, JupyterHub hooks and the grader rely on it)
=========================================================================

* **Master key** (32 random bytes): held by the grader and the process that
  starts learner kernels, never by a learner kernel. Found in
  ``$WECHAT_TRAINING_STORE_KEY`` (64 hex digits), else in the key file
  ``<course_dir>/.store_key`` (hex), which `master_key(course_dir, create=True)`
  creates on first use with mode 0600 (O_EXCL: two first users agree on one key).
  The file is git-ignored; it is never in the tree's tracked files.
* **Employee key** = HMAC-SHA256(master, ``"wechat-training employee key\\0" + employee_id``).
  A learner kernel receives ONLY its own employee's key, in
  ``$WECHAT_TRAINING_SIGNING_KEY`` as ``"<employee_id>:<64 hex>"`` (see
  `signing_environment`); `serve` sets it, and a JupyterHub spawner hook sets it
  per user with the same function. A kernel holding it can sign files for its
  own employee only: it cannot derive anyone else's key (HMAC is one-way in the
  master key). `serve` derives it for ``$JUPYTERHUB_USER`` (else ``--employee``)
  unless the variable is already set; a JupyterHub spawner that runs user
  servers as other Unix users should set it itself, e.g. in a pre-spawn hook:
  ``spawner.environment.update(signing_environment(master_key(course_dir), user))``.
* **Submission id** (32 hex) = nonce (16 hex, random) + the first 16 hex of
  HMAC(employee key, ``"submission id\\0" + module_id + "\\0" + nonce``). An id is
  thereby bound to one employee and module: copying another employee's id into
  one's own file fails `check_id`, so a reused id can never displace its owner.
* **Signature** = HMAC-SHA256(employee key, canonical JSON of every other field)
  in hex, canonical = ``json.dumps(sort_keys=True, separators=(",", ":"),
  ensure_ascii=False)`` UTF-8. Any field added to the format (e.g. ``choice_order``)
  is covered automatically.

Limits, honestly: the key file protects only as far as file permissions do. When
learner kernels run as the same Unix user as the server (``serve`` on one
machine, every process root), a kernel that can run arbitrary code could read
``.store_key``; Voila refuses ``execute_request``, so that needs another hole
first. Under JupyterHub with one Unix user per employee, keep the course
directory's key file readable by the hub/grader user only and pass the master
key to no spawned server: each then holds only its own employee key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

MASTER_KEY_VARIABLE = "WECHAT_TRAINING_STORE_KEY"
SIGNING_KEY_VARIABLE = "WECHAT_TRAINING_SIGNING_KEY"
KEY_FILE = ".store_key"
_HEX_KEY = re.compile(r"^[0-9a-f]{64}$")
SUBMISSION_ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")


class StoreKeyError(RuntimeError):
    """No usable key: the message says which setting or file to fix."""


def _parse_hex(text: str, where: str) -> bytes:
    text = text.strip().lower()
    if not _HEX_KEY.match(text):
        raise StoreKeyError(f"{where}: a store key must be 64 hex digits")
    return bytes.fromhex(text)


def master_key(course_dir: Path | None, *, create: bool = False) -> bytes | None:
    """The master key from the environment, else the course directory's key file.

    With `create`, a missing key file is made (0600, exclusive); without it a
    missing key is None (nothing in the store can be verified then)."""
    configured = os.environ.get(MASTER_KEY_VARIABLE)
    if configured:
        return _parse_hex(configured, MASTER_KEY_VARIABLE)
    if course_dir is None:
        return None
    path = Path(course_dir) / KEY_FILE
    try:
        return _parse_hex(path.read_text(encoding="ascii"), str(path))
    except FileNotFoundError:
        if not create:
            return None
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreKeyError(f"{path}: cannot read the store key ({exc})") from exc
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return _parse_hex(path.read_text(encoding="ascii"), str(path))
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(32) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return _parse_hex(path.read_text(encoding="ascii"), str(path))


def employee_key(master: bytes, employee_id: str) -> bytes:
    return hmac.new(master, b"wechat-training employee key\0" + employee_id.encode(), hashlib.sha256).digest()


def signing_environment(master: bytes, employee_id: str) -> dict[str, str]:
    """The variable a learner kernel for `employee_id` gets (and nothing else of the key)."""
    return {SIGNING_KEY_VARIABLE: f"{employee_id}:{employee_key(master, employee_id).hex()}"}


def canonical(fields: Mapping[str, Any]) -> bytes:
    return json.dumps(dict(fields), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Signer:
    """Signs one employee's submissions (what a learner kernel can do)."""

    def __init__(self, employee_id: str, key: bytes):
        self.employee_id = employee_id
        self._key = key

    def new_id(self, module_id: str) -> str:
        nonce = secrets.token_hex(8)
        return nonce + self._id_mac(module_id, nonce)

    def _id_mac(self, module_id: str, nonce: str) -> str:
        message = b"submission id\0" + module_id.encode() + b"\0" + nonce.encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:16]

    def check_id(self, module_id: str, submission_id: str) -> bool:
        if not SUBMISSION_ID_PATTERN.match(submission_id):
            return False
        return hmac.compare_digest(self._id_mac(module_id, submission_id[:16]), submission_id[16:])

    def sign(self, fields: Mapping[str, Any]) -> str:
        return hmac.new(self._key, canonical(fields), hashlib.sha256).hexdigest()

    def verify(self, fields: Mapping[str, Any], signature: str) -> bool:
        return isinstance(signature, str) and hmac.compare_digest(self.sign(fields), signature)


def signer_for(course_dir: Path | None, employee_id: str) -> Signer:
    """The signer a writer uses: its own employee key from the environment (a
    learner kernel), else one derived from the master key (grading side, tests,
    single-user self-assessment). A kernel given another employee's key refuses."""
    configured = os.environ.get(SIGNING_KEY_VARIABLE)
    if configured:
        owner, _, hex_key = configured.rpartition(":")
        if owner != employee_id:
            raise StoreKeyError(
                f"{SIGNING_KEY_VARIABLE} is for employee {owner!r}, not {employee_id!r}: "
                "this process cannot sign for them"
            )
        return Signer(employee_id, _parse_hex(hex_key, SIGNING_KEY_VARIABLE))
    master = master_key(course_dir, create=True)
    assert master is not None
    return Signer(employee_id, employee_key(master, employee_id))


class Verifier:
    """The grader's side: verifies any employee's files with the master key."""

    def __init__(self, master: bytes | None):
        self._master = master
        self._signers: dict[str, Signer] = {}

    @classmethod
    def for_course(cls, course_dir: Path) -> Verifier:
        return cls(master_key(course_dir, create=False))

    def signer(self, employee_id: str) -> Signer | None:
        if self._master is None:
            return None
        found = self._signers.get(employee_id)
        if found is None:
            found = self._signers[employee_id] = Signer(employee_id, employee_key(self._master, employee_id))
        return found

    def problem(
        self, employee_id: str, module_id: str, submission_id: str, fields: Mapping[str, Any], signature: str
    ) -> str | None:
        """None when the file is provably the portal's for that employee, else why not."""
        if not signature:
            return "unsigned: not written by the portal (no signature)"
        signer = self.signer(employee_id)
        if signer is None:
            return "cannot be verified: no store key (set $WECHAT_TRAINING_STORE_KEY or keep the course's .store_key)"
        if not signer.check_id(module_id, submission_id):
            return (
                f"submission id {submission_id} was not issued to {employee_id} for {module_id} (reused or forged id)"
            )
        if not signer.verify(fields, signature):
            return f"signature does not match: not written by the portal for {employee_id}, or edited since"
        return None
