"""nbgrader source assignments built from the question bank, one per module.

`build(catalog, course_dir)` writes ``<course_dir>/source/<module>/<module>.ipynb``.
Each notebook asks every question the module may ask (its fixed questions and
its draw pool), three cells per question:

- a locked markdown cell ``<G>_question``: the prompt, the chat of a scenario,
  the choices and how to write the answer;
- an answer cell ``<G>_answer`` (nbgrader "autograded answer"): one line,
  ``answer = <Python literal>``; the course config's code stub puts
  ``answer = ""`` in the release;
- a locked "autograder tests" cell ``<G>`` worth the question's points, whose
  only test is hidden (``### BEGIN HIDDEN TESTS``), so the release notebook
  holds no answer key.

``<G>`` is the question id with '-' replaced by '_' (``Q_ACC_001``): nbgrader's
grade ids must be plain ASCII words. Our own data sits in
``metadata["wechat_training"]`` (nbgrader's namespace is ``metadata["nbgrader"]``,
cell metadata schema v3). Output is deterministic: same catalogue, same bytes.

The stock pipeline runs these tests in a kernel; ours (``grader``) reads the
answer cells as literals and scores them with ``scoring``. Both agree on
honest submissions because ``_picked`` below and ``answers.picked`` read a
literal the same way.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from ..content.catalog import Catalog
from ..content.schema import Question

FORMAT = "wechat-training-assignment/1"
SOURCE_DIR = "source"
NBGRADER_SCHEMA_VERSION = 3
ANSWER_NAME = "answer"
HEADER_ID = "header"
SETUP_ID = "setup"
QUESTION_SUFFIX = "_question"
ANSWER_SUFFIX = "_answer"
BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
#: What the release notebook shows in each answer cell (grading/nbgrader_config.py
#: sets it as ClearSolutions.code_stub).
ANSWER_STUB = 'answer = ""'

#: Reads an answer the way `answers.picked` does. It lives in a locked cell so
#: stock nbgrader (which restores locked cells from its master copy) runs this
#: exact code in the cross-check.
SETUP_SOURCE = """\
# Runs before the questions: reads an answer as a set of choice ids.
def _picked(value):
    if value is True:
        return {"true"}
    if value is False:
        return {"false"}
    if value is None or (isinstance(value, str) and value == ""):
        return set()
    if type(value) is str:
        return {value}
    if type(value) in (list, tuple, set, frozenset) and all(type(v) is str for v in value):
        return set(value)
    return {"<not a choice>"}"""

TYPE_LABEL = {
    "single": ("单选", "single choice"),
    "multiple": ("多选", "multiple choice"),
    "true_false": ("判断", "true or false"),
    "scenario": ("情景", "scenario"),
}
HOW_TO_ANSWER = {
    "single": ('一个选项字母，例如 `answer = "a"`', 'one choice letter, e.g. `answer = "a"`'),
    "scenario": ('一个选项字母，例如 `answer = "a"`', 'one choice letter, e.g. `answer = "a"`'),
    "multiple": (
        '所有正确选项的列表，例如 `answer = ["a", "c"]`',
        'a list of every right choice, e.g. `answer = ["a", "c"]`',
    ),
    "true_false": ("`answer = True` 或 `answer = False`", "`answer = True` or `answer = False`"),
}


def grade_id(question_id: str) -> str:
    """nbgrader grade id of a question's test cell: Q-ACC-001 -> Q_ACC_001."""
    return question_id.replace("-", "_")


def question_id(grade: str) -> str:
    return grade.replace("_", "-")


def notebook_path(course_dir: Path, module_id: str) -> Path:
    return Path(course_dir) / SOURCE_DIR / module_id / f"{module_id}.ipynb"


def module_questions(catalog: Catalog, module_id: str) -> list[str]:
    """Every question the module may ask: fixed ones, then the draw pool sorted."""
    module = catalog.modules[module_id]
    return [*module.fixed, *sorted(set(catalog.draw_pool(module_id)) - set(module.fixed))]


def notebook_for(catalog: Catalog, module_id: str) -> NotebookNode:
    """The source notebook (with answer key) of one module."""
    version = catalog.content_version(module_id)
    qids = module_questions(catalog, module_id)
    ours = {"module": module_id, "content_version": version}
    cells = [
        _cell(
            "markdown",
            HEADER_ID,
            _header(catalog, module_id),
            nbgrader={"locked": True},
            ours={**ours, "part": "header"},
        ),
        _cell("code", SETUP_ID, SETUP_SOURCE, nbgrader={"locked": True}, ours={**ours, "part": "setup"}),
    ]
    for number, qid in enumerate(qids, start=1):
        question = catalog.questions[qid]
        gid = grade_id(qid)
        part = {**ours, "question": qid}
        cells.append(
            _cell(
                "markdown",
                gid + QUESTION_SUFFIX,
                _question_text(question, number),
                nbgrader={"locked": True},
                ours={**part, "part": "question"},
            )
        )
        cells.append(
            _cell(
                "code",
                gid + ANSWER_SUFFIX,
                f"{BEGIN_SOLUTION}\n{ANSWER_NAME} = {_key_literal(question)}\n{END_SOLUTION}",
                nbgrader={"solution": True},
                ours={**part, "part": "answer"},
            )
        )
        cells.append(
            _cell(
                "code",
                gid,
                test_visible_source(qid) + f"\n{BEGIN_HIDDEN}\n{_hidden_test(question)}\n{END_HIDDEN}",
                nbgrader={"grade": True, "locked": True, "points": question.points},
                ours={**part, "part": "test"},
            )
        )
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = NotebookNode(
        {
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
            "wechat_training": {"format": FORMAT, "module": module_id, "content_version": version, "questions": qids},
        }
    )
    nbformat.validate(nb)
    return nb


def test_visible_source(question_id: str) -> str:
    """What the release notebook keeps of a test cell once hidden tests are removed."""
    return f"# Checks the answer to {question_id} when the trainer grades (the check is hidden)."


def build(catalog: Catalog, course_dir: Path, modules: list[str] | None = None) -> list[Path]:
    """Write the source notebook of every module (or of `modules`); returns their paths.

    A file whose bytes would not change is left alone, so nbgrader and make-like
    tools see no spurious change.
    """
    written = []
    for module_id in modules or sorted(catalog.modules):
        path = notebook_path(course_dir, module_id)
        data = to_bytes(notebook_for(catalog, module_id))
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_bytes() != data:
            tmp = path.with_suffix(".ipynb.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        written.append(path)
    return written


def to_bytes(nb: NotebookNode) -> bytes:
    return (nbformat.writes(nb, version=4) + "\n").encode("utf-8")


def _cell(kind: str, gid: str, source: str, *, nbgrader: dict, ours: dict) -> NotebookNode:
    meta = {
        "nbgrader": {
            "grade": False,
            "solution": False,
            "locked": False,
            **nbgrader,
            "grade_id": gid,
            "schema_version": NBGRADER_SCHEMA_VERSION,
        },
        "wechat_training": ours,
    }
    if kind == "markdown":
        cell = nbformat.v4.new_markdown_cell(source, metadata=meta)
    else:
        cell = nbformat.v4.new_code_cell(source, metadata=meta)
    # nbformat draws random cell ids; the grade id is unique and stable.
    cell.id = gid.replace("_", "-")
    return cell


def _header(catalog: Catalog, module_id: str) -> str:
    module = catalog.modules[module_id]
    return (
        f"# {module.title.zh} · {module.title.en}\n\n"
        f"{module.intro.zh}\n\n*{module.intro.en}*\n\n"
        "在每道题下面的单元格里只改 `answer = ...` 这一行（一个 Python 字面量）；不要改动其他单元格。\n\n"
        "*In the cell under each question change only the line `answer = ...` (a Python literal); "
        "leave every other cell as it is.*"
    )


def _question_text(question: Question, number: int) -> str:
    zh_type, en_type = TYPE_LABEL[question.type]
    lines = [f"### {number}. {question.id} · {zh_type} · {en_type}", ""]
    for message in question.chat or ():
        lines.append(f"> **{message.sender.zh}** {message.time}: {message.text.zh}  ")
        lines.append(f"> *{message.sender.en}: {message.text.en}*")
        lines.append(">")
    if question.chat:
        lines[-1] = ""
    lines += [f"**{question.prompt.zh}**", "", f"*{question.prompt.en}*", ""]
    if question.type == "true_false":
        lines.append("- `True` 对 / true")
        lines.append("- `False` 错 / false")
    for choice in question.choices or ():
        lines.append(f'- `"{choice.id}"` {choice.text.zh} / {choice.text.en}')
    zh_how, en_how = HOW_TO_ANSWER[question.type]
    lines += ["", f"回答：{zh_how}。 *Answer: {en_how}.*"]
    return "\n".join(lines)


def _key_literal(question: Question) -> str:
    key = sorted(question.correct_choice_ids())
    if question.type == "true_false":
        return "True" if key == ["true"] else "False"
    if question.type == "multiple":
        return json.dumps(key)
    return json.dumps(key[0])


def _hidden_test(question: Question) -> str:
    key = sorted(question.correct_choice_ids())
    return f'assert _picked({ANSWER_NAME}) == {{{", ".join(json.dumps(k) for k in key)}}}, "wrong answer"'
