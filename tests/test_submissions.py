"""The submission store: atomic, never overwritten, strict on read."""

import json

import pytest

from wechat_training.submissions import provenance
from wechat_training.submissions import store as submissions


def make(employee="E1001", **changes):
    fields = dict(
        employee_id=employee,
        module_id="account_security",
        content_version="abc123def456",
        rule_versions={"ACC-001": 1},
        question_ids=["Q-ACC-001", "Q-ACC-002"],
        answers={"Q-ACC-001": ["b"]},
        started_at="2026-11-01T09:00:00.000Z",
        identity_source="local",
    )
    fields.update(changes)
    return submissions.new_submission(**fields)


def test_written_submission_reads_back_equal_with_unanswered_questions_empty(tmp_path):
    sub = submissions.seal(make(), provenance.signer_for(tmp_path, "E1001"))
    path = submissions.write(tmp_path, sub)
    assert path.parent == tmp_path / "submissions" / "account_security" / "E1001"
    back = submissions.read(path)
    assert back == sub
    assert back.answers == {"Q-ACC-001": ["b"], "Q-ACC-002": []}
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tmp")]


def test_resubmitting_adds_an_attempt_and_keeps_the_first(tmp_path):
    first = submissions.write(tmp_path, make())
    second = submissions.write(tmp_path, make(answers={"Q-ACC-001": ["a"]}))
    assert first != second and first.exists()
    attempts = submissions.attempts(tmp_path, "E1001")
    assert [a.answers["Q-ACC-001"] for a in attempts] == [["b"], ["a"]]


@pytest.mark.parametrize("bad", ["../etc", "a/b", "", "x" * 65, "李雷"])
def test_an_unsafe_employee_id_is_refused(bad, tmp_path):
    with pytest.raises(ValueError, match="employee id"):
        make(employee=bad)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not a readable JSON submission"),
        ('{"format": "other"}', "not a wechat-training-submission/1 file"),
    ],
)
def test_unreadable_files_raise_naming_the_file(tmp_path, content, message):
    path = tmp_path / "x.json"
    path.write_text(content)
    with pytest.raises(submissions.SubmissionError, match=message) as info:
        submissions.read(path)
    assert str(path) in str(info.value)


def test_extra_keys_and_wrong_types_are_refused(tmp_path):
    data = make().to_json()
    path = tmp_path / "x.json"
    path.write_text(json.dumps({**data, "score": 100}))
    with pytest.raises(submissions.SubmissionError, match="unexpected \\['score'\\]"):
        submissions.read(path)
    path.write_text(json.dumps({**data, "answers": {"Q-ACC-001": "b"}}))
    with pytest.raises(submissions.SubmissionError, match="answers must map"):
        submissions.read(path)


# ----------------------------------------------------------------- provenance (issue 15)


def test_the_master_key_file_is_private_and_stable(tmp_path, monkeypatch):
    monkeypatch.delenv(provenance.MASTER_KEY_VARIABLE, raising=False)
    assert provenance.master_key(tmp_path) is None  # never created by a reader
    first = provenance.master_key(tmp_path, create=True)
    assert (tmp_path / provenance.KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert provenance.master_key(tmp_path) == first


def test_a_kernel_key_signs_for_its_own_employee_only(tmp_path, monkeypatch):
    from wechat_training.learning.server import ServeOptions, learner_environment

    monkeypatch.delenv(provenance.MASTER_KEY_VARIABLE, raising=False)
    env = learner_environment(ServeOptions(root=tmp_path, course_dir=tmp_path, employee="E1001"))
    assert provenance.MASTER_KEY_VARIABLE not in env
    master = provenance.master_key(tmp_path)
    assert master.hex() not in "".join(env.values())
    monkeypatch.setenv(provenance.SIGNING_KEY_VARIABLE, env[provenance.SIGNING_KEY_VARIABLE])
    with pytest.raises(provenance.StoreKeyError, match="cannot sign for them"):
        provenance.signer_for(tmp_path, "E1002")
    with pytest.raises(provenance.StoreKeyError):
        submissions.seal(make(employee="E1002"), provenance.signer_for(tmp_path, "E1001"))
    path = submissions.write(tmp_path, make())
    written = submissions.read(path)
    verifier = provenance.Verifier(master)
    assert (
        verifier.problem("E1001", written.module_id, written.submission_id, written.signed_fields(), written.signature)
        is None
    )
    # The same bytes claimed by another employee: neither the id nor the signature is theirs.
    assert "not issued to E1002" in verifier.problem(
        "E1002", written.module_id, written.submission_id, written.signed_fields(), written.signature
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "not a readable JSON submission"),
        (b'{"format": "wechat-training-submission/1", "n": ' + b"7" * 5000 + b"}", "integer of 5000 digits"),
        (b'{"format": "wechat-training-submission/1", "n": NaN}', "NaN is not JSON"),
        (b"\xff\xfe", "not a readable JSON submission"),
    ],
)
def test_hostile_json_is_a_named_error(tmp_path, content, message):
    path = tmp_path / "x.json"
    path.write_bytes(content)
    with pytest.raises(submissions.SubmissionError, match=message) as info:
        submissions.read(path)
    assert str(path) in str(info.value)


def test_a_planted_symlink_folder_is_never_written_through(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    folder = submissions.store_path(tmp_path) / "account_security"
    folder.mkdir(parents=True)
    (folder / "E1001").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(submissions.SubmissionError, match="symlink"):
        submissions.write(tmp_path, make())
    assert not list(elsewhere.iterdir())
