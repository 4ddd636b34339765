"""The catalogue: does `check` accept good content and name every problem in bad content?"""

import json
import re

import pytest
from click.testing import CliRunner
from conftest import REPO, SEEDS
from content_trees import BROKEN, VALID, broken_tree

from wechat_training.cli import main
from wechat_training.content.catalog import load_catalog
from wechat_training.content.schema import AREAS

BROKEN_CASES = sorted(p.name for p in BROKEN.iterdir() if p.is_dir())


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_valid_tree_passes_with_a_summary():
    result = run("check", "--root", str(VALID))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        "ok: 2 rules, 5 questions (1 scenarios), 1 modules; rules/questions per area: account_security 2/5"
    )


@pytest.mark.parametrize("case", BROKEN_CASES)
def test_each_broken_tree_reports_its_exact_problems(case, tmp_path):
    """Does every validation rule report the right path:line: message, and exit 1?"""
    root = broken_tree(case, tmp_path / "content")
    result = run("check", "--root", str(root))
    assert result.exit_code == 1
    expected = (BROKEN / case / "expected.txt").read_text().splitlines()
    reported = result.stderr.splitlines()
    assert reported[:-1] == expected
    assert reported[-1] == f"{len(expected)} problem(s) found."


def test_every_problem_in_several_files_is_reported_at_once(tmp_path):
    root = broken_tree("several_files_at_once", tmp_path / "content")
    result = run("check", "--root", str(root))
    files = {line.split(":")[0] for line in result.stderr.splitlines()[:-1]}
    assert files == {
        "rules/account_security.yaml",
        "quizzes/questions/account_security.yaml",
        "quizzes/modules/account_security.yaml",
    }


def test_a_missing_content_root_is_an_error(tmp_path):
    result = run("check", "--root", str(tmp_path / "nowhere"))
    assert result.exit_code == 1
    assert "missing directory rules/" in result.stderr


def test_catalog_json_carries_rules_questions_modules():
    result = run("catalog", "--json", "--root", str(VALID))
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert set(data) == {"rules", "questions", "modules"}
    rule = data["rules"][0]
    assert set(rule) == {"id", "area", "title", "text", "why", "severity", "consequence", "source", "version"}
    assert rule["title"] == {"zh": "账号只能本人使用", "en": "An account is for its owner only"}
    assert rule["source"] == [{"file": "000_0cd102e73d5ed378.txt", "section": "二、微信账号管理"}]
    question = next(q for q in data["questions"] if q["id"] == "Q-ACC-002")
    assert question["type"] == "true_false" and question["rules"] == ["ACC-001"] and question["answer"] is False
    assert data["modules"][0]["id"] == "account_security"
    assert re.fullmatch(r"[0-9a-f]{12}", data["modules"][0]["content_version"])


def test_draw_is_the_same_for_an_employee_and_differs_between_employees():
    catalog = load_catalog(VALID)
    first = catalog.questions_for("account_security", "E1001")
    assert first == catalog.questions_for("account_security", "E1001")
    assert first[:2] == ["Q-ACC-001", "Q-ACC-004"]
    assert len(first) == 4 and len(set(first)) == 4
    draws = {tuple(catalog.questions_for("account_security", f"E{n}")) for n in range(40)}
    assert len(draws) > 1


def test_content_version_changes_when_a_rule_version_changes(tmp_path):
    import shutil

    before = load_catalog(VALID).content_version("account_security")
    shutil.copytree(VALID, tmp_path / "c")
    rules = tmp_path / "c" / "rules" / "account_security.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("version: 2", "version: 3"), encoding="utf-8")
    after = load_catalog(tmp_path / "c")
    assert after.content_version("account_security") != before
    assert after.rule_versions("account_security") == {"ACC-001": 1, "ACC-002": 3}


# The shipped content ------------------------------------------------------


@pytest.fixture(scope="module")
def shipped():
    return load_catalog(REPO)


def test_shipped_content_passes_check():
    result = run("check")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("ok: ")


def test_shipped_content_meets_the_catalogue_targets(shipped):
    assert 60 <= len(shipped.rules) <= 100
    assert len(shipped.questions) >= 180
    assert set(shipped.modules) == set(AREAS)
    scenarios = [q for q in shipped.questions.values() if q.type == "scenario"]
    assert len(scenarios) >= 30
    assert {q.id.split("-")[1] for q in scenarios} == {"ACC", "PUB", "CON", "CUS", "GRP", "OVS"}
    types = {q.type for q in shipped.questions.values()}
    assert types == {"single", "multiple", "true_false", "scenario"}


#: Traditional-script characters of the section headings in seeds 000 and 003 (a
#: traditional conversion, see shared/seeds/README.md), folded to the simplified
#: forms our citations use.
_FOLD = str.maketrans("總則為賬號發戶溝內協監與組護帳產員關規務過時書開處資項門類網絡設備離職審據權責報導擊許論絕對個",
                      "总则为账号发户沟内协监与组护帐产员关规务过时书开处资项门类网络设备离职审据权责报导击许论绝对个")


def _findable(text: str) -> str:
    """Seed or citation text as a reader searches it: no spaces, no pinyin glosses, simplified."""
    text = re.sub(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)", "", text)
    return re.sub(r"\s+", "", text).translate(_FOLD)


def test_shipped_rules_cite_sections_a_reader_finds_in_the_seed(shipped):
    """Does every seed citation name a real seed file whose text holds the cited document title and section?"""
    if not SEEDS.is_dir():
        pytest.skip(f"seed policies not found at {SEEDS}")
    seeds = {p.name: _findable(p.read_text(encoding="utf-8", errors="replace")) for p in SEEDS.glob("*.txt")}
    unfindable = []
    for rule in shipped.rules.values():
        for source in rule.source:
            if source.kind == "company":
                assert source.clause is not None, f"{rule.id}: a company addition names its clause"
                continue
            assert source.file in seeds, f"{rule.id} cites {source.file}"
            text = seeds[source.file]
            for cited in filter(None, (source.document, source.section)):
                if _findable(cited) not in text:
                    unfindable.append(f"{rule.id}: {source.file} has no '{cited}'")
            for conflict in source.conflicts:
                assert conflict.file in seeds, f"{rule.id}: conflict cites {conflict.file}"
            # 002 is a compilation of ~15 documents whose section numbers repeat.
            if source.file.startswith("002_") and not source.document:
                unfindable.append(f"{rule.id}: a 002 citation needs the document title")
    assert not unfindable, "\n".join(unfindable)


def _cjk_runs(text: str) -> list[str]:
    return re.findall(r"[\u4e00-\u9fff]+", text)


def test_shipped_chinese_text_is_our_own_words(shipped):
    """Does any rule or question share 10 or more consecutive Chinese characters with a seed?"""
    if not SEEDS.is_dir():
        pytest.skip(f"seed policies not found at {SEEDS}")
    window = 10
    seed_grams = set()
    for path in SEEDS.glob("*.txt"):
        for run_ in _cjk_runs(path.read_text(encoding="utf-8", errors="replace")):
            seed_grams.update(run_[i : i + window] for i in range(len(run_) - window + 1))
    copied = []
    texts = [(r.id, t.zh) for r in shipped.rules.values() for t in (r.title, r.text, r.why, r.consequence) if t]
    texts += [(r.id, s.clause.zh) for r in shipped.rules.values() for s in r.source if s.clause]
    texts += [(r.id, c.reason.zh) for r in shipped.rules.values() for s in r.source for c in s.conflicts]
    texts += [(q.id, q.prompt.zh) for q in shipped.questions.values()]
    texts += [(q.id, q.explanation.zh) for q in shipped.questions.values()]
    texts += [(q.id, m.text.zh) for q in shipped.questions.values() for m in q.chat or ()]
    for q in shipped.questions.values():
        for choice in q.choices or ():
            texts += [(q.id, choice.text.zh)] + ([(q.id, choice.feedback.zh)] if choice.feedback else [])
    for ident, text in texts:
        for run_ in _cjk_runs(text):
            hits = [run_[i : i + window] for i in range(len(run_) - window + 1) if run_[i : i + window] in seed_grams]
            if hits:
                copied.append(f"{ident}: {hits[0]}")
    assert not copied, "copied from a seed: " + "; ".join(copied)
