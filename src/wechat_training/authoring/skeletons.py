"""`wechat-training new`: append a commented, valid draft skeleton to the right file.

The skeleton is appended as text after the file's last item, so every comment,
blank line and the order of the existing items stay byte for byte (a YAML
round trip would re-indent flow mappings such as `{zh: .., en: ..}`). The result
is parsed again before anything is written: a file whose list is not the last
thing in it is refused rather than corrupted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..content.catalog import QUESTIONS_DIR, RULES_DIR
from ..content.schema import AREA_PREFIX, AREAS, SKELETON_MARK
from ..content.sources import load_sources

QUESTION_TYPES = ("single", "multiple", "true_false", "scenario")
TODO = SKELETON_MARK


class AuthoringError(Exception):
    """A skeleton could not be added (unknown area or rule, a file we cannot append to)."""


@dataclass(frozen=True)
class Added:
    ident: str
    path: Path
    line: int  #: 1-based line of the new item's `- id:`


def _ids_in(directory: Path, top_key: str) -> set[str]:
    ids: set[str] = set()
    for path in sorted(directory.glob("*.y*ml")):
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        except yaml.YAMLError as exc:
            raise AuthoringError(f"{path}: not valid YAML ({exc}); run `wechat-training check`") from exc
        for entry in (data or {}).get(top_key) or []:
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                ids.add(entry["id"])
    return ids


def next_id(taken: set[str], prefix: str) -> str:
    numbers = [int(m.group(1)) for i in taken if (m := re.fullmatch(rf"{re.escape(prefix)}(\d{{3}})", i))]
    return f"{prefix}{max(numbers, default=0) + 1:03d}"


def _append(path: Path, top_key: str, ident: str, body: str) -> Added:
    original = path.read_text(encoding="utf-8") if path.exists() else f"{top_key}:\n"
    found = re.search(r"^( *)- id:", original, flags=re.M)
    indent = found.group(1) if found else "  "
    block = "\n".join(indent + line if line else "" for line in body.splitlines())
    head = original if original.endswith("\n") else original + "\n"
    updated = head + "\n" + block + "\n"
    try:
        data = yaml.load(updated, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        data = None
    items = data.get(top_key) if isinstance(data, dict) else None
    if not items or not isinstance(items[-1], dict) or items[-1].get("id") != ident:
        raise AuthoringError(f"{path}: cannot append to this file: its '{top_key}:' list is not the last thing in it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(updated, encoding="utf-8")
    line = updated.count("\n", 0, updated.index(f"- id: {ident}\n", len(head))) + 1
    return Added(ident, path, line)


def add_rule(root: Path, area: str) -> Added:
    if area not in AREAS:
        raise AuthoringError(f"unknown area {area!r}; areas: {', '.join(AREAS)}")
    ident = next_id(_ids_in(root / RULES_DIR, "rules"), AREA_PREFIX[area] + "-")
    # The skeleton cites a document the tree declares (sources.yaml), so `check` accepts
    # the untouched draft; the trainer replaces it with the right one.
    first_declared = load_sources(root, []).documents[0].file
    return _append(root / RULES_DIR / f"{area}.yaml", "rules", ident, rule_skeleton(ident, area, first_declared))


def add_question(root: Path, rule_id: str, kind: str) -> Added:
    if kind not in QUESTION_TYPES:
        raise AuthoringError(f"unknown question type {kind!r}; types: {', '.join(QUESTION_TYPES)}")
    if rule_id not in _ids_in(root / RULES_DIR, "rules"):
        raise AuthoringError(f"unknown rule {rule_id!r} under {root / RULES_DIR}")
    prefix = rule_id.split("-")[0]
    area = next(a for a, p in AREA_PREFIX.items() if p == prefix)
    ident = next_id(_ids_in(root / QUESTIONS_DIR, "questions"), f"Q-{prefix}-")
    body = question_skeleton(ident, rule_id, kind)
    return _append(root / QUESTIONS_DIR / f"{area}.yaml", "questions", ident, body)


def rule_skeleton(ident: str, area: str, source_file: str) -> str:
    return f"""# Draft added by `wechat-training new rule`: replace every {TODO}, then delete `draft: true`.
- id: {ident}
  draft: true  # drafts pass `check` and show in `preview`, but never reach learners
  area: {area}
  title:
    zh: "{TODO}: 规则标题，一句话"
    en: "{TODO}: rule title, one line"
  text:
    zh: "{TODO}: 规则要求什么、禁止什么（用自己的话转述制度）"
    en: "{TODO}: what the rule requires or forbids, paraphrasing the policy"
  why:
    zh: "{TODO}: 这条规则防范的风险"
    en: "{TODO}: the risk this rule guards against"
  severity: major  # red_line (one breach is serious misconduct) | major | minor
  source:
    # The policy section this rule paraphrases: a document listed in sources.yaml and its heading
    # (or `kind: company` with `clause:` for what the company adds itself).
    - file: {source_file}
      section: "{TODO}: section heading as written in the policy"
  version: 1  # bump when the meaning changes: passes on the older version expire
"""


def _choice(letter: str, correct: bool, indent: str = "") -> str:
    if correct:
        return f"""{indent}- id: {letter}
{indent}  text:
{indent}    zh: "{TODO}: 正确的做法"
{indent}    en: "{TODO}: the right action"
{indent}  correct: true
"""
    return f"""{indent}- id: {letter}
{indent}  text:
{indent}    zh: "{TODO}: 错误的做法"
{indent}    en: "{TODO}: a wrong action"
{indent}  feedback:  # shown when this option is picked: why it is wrong
{indent}    zh: "{TODO}: 为什么不对"
{indent}    en: "{TODO}: why this is wrong"
"""


def question_skeleton(ident: str, rule_id: str, kind: str) -> str:
    lines = [
        f"# Draft added by `wechat-training new question`: replace every {TODO}, then delete `draft: true`.",
        f"- id: {ident}",
        "  draft: true  # drafts pass `check` and show in `preview`, but never reach learners",
        f"  type: {kind}",
        f"  rules: [{rule_id}]",
    ]
    if kind == "scenario":
        lines.append(
            f"""  chat:  # 2-6 messages; role: me (the learner), colleague, manager, customer, stranger, system
    - sender: {{zh: 同事小王, en: Colleague Xiao Wang}}
      role: colleague
      time: "09:30"
      text:
        zh: "{TODO}: 对方发来的消息，把学员带进情境"
        en: "{TODO}: the message that puts the learner in the situation"
    - sender: {{zh: 我, en: Me}}
      role: me
      time: "09:31"
      text:
        zh: "{TODO}: 学员的回复"
        en: "{TODO}: the learner's reply\""""
        )
    prompt = {
        "scenario": ("你怎么做？", "What do you do?"),
        "true_false": (f"{TODO}: 一句对或错的陈述", f"{TODO}: a statement that is true or false"),
        "single": (f"{TODO}: 题干（只有一个正确选项）", f"{TODO}: the question (one correct option)"),
        "multiple": (f"{TODO}: 题干（选出所有正确选项）", f"{TODO}: the question (pick every correct option)"),
    }[kind]
    lines.append(f'  prompt:\n    zh: "{prompt[0]}"\n    en: "{prompt[1]}"')
    if kind == "true_false":
        lines.append("  answer: true  # whether the statement is true")
    else:
        correct = {"a", "c"} if kind == "multiple" else {"b"}
        letters = "abcd" if kind == "multiple" else "abc"
        lines.append("  choices:  # mark the right one(s) correct: true; keep option lengths alike")
        lines += [_choice(x, x in correct, "    ").rstrip("\n") for x in letters]
    lines.append(
        f"""  explanation:  # feedback after answering: why, citing the rule
    zh: "{TODO}: 为什么这样做（{rule_id}）"
    en: "{TODO}: why, citing the rule ({rule_id})\""""
    )
    return "\n".join(lines) + "\n"
