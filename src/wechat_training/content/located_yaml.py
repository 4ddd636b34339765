"""YAML documents that remember the line of every value.

PyYAML's composer gives each node its start mark; walking the node tree once
yields both the plain Python data and a map from value path (the tuple of keys
and indexes pydantic reports in `loc`) to a 1-based line number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .problems import Problem

Loc = tuple[Any, ...]


@dataclass
class LocatedDocument:
    path: str
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, loc: Loc) -> int:
        """Line of the deepest known value on `loc` (a missing key points at its parent)."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), 1)


class YamlSyntaxError(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))


def _construct(node: yaml.Node, loc: Loc, lines: dict[Loc, int], doc_path: str) -> Any:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            if key in result:
                raise YamlSyntaxError(Problem(doc_path, key_node.start_mark.line + 1, f"duplicate key '{key}'"))
            result[key] = _construct(value_node, loc + (key,), lines, doc_path)
            # A key's own line is more useful than its value's for block values.
            lines[loc + (key,)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, loc + (i,), lines, doc_path) for i, item in enumerate(node.value)]
    return _scalar(node)


_SCALAR_LOADER = yaml.SafeLoader("")
# libyaml's parser keeps the marks we need and is several times faster.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _scalar(node: yaml.Node) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise yaml.constructor.ConstructorError(None, None, "a mapping key must be a plain value", node.start_mark)
    return _SCALAR_LOADER.construct_object(node, deep=True)


def load(path: Path, display: str) -> LocatedDocument:
    """Parse one YAML file; syntax errors raise YamlSyntaxError naming the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YamlSyntaxError(Problem(display, 1, f"not UTF-8 text ({exc.reason})")) from exc
    try:
        node = yaml.compose(text, Loader=_FAST_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlSyntaxError(Problem(display, line, f"YAML syntax error: {exc.problem}")) from exc
    if node is None:
        return LocatedDocument(display, None, {(): 1})
    lines: dict[Loc, int] = {}
    try:
        data = _construct(node, (), lines, display)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlSyntaxError(Problem(display, mark.line + 1 if mark else 1, f"YAML error: {exc.problem}")) from exc
    return LocatedDocument(display, data, lines)


@dataclass(frozen=True)
class Place:
    """Where one authored item was written: its file and the value path inside it."""

    doc: LocatedDocument
    loc: Loc

    @property
    def path(self) -> str:
        return self.doc.path

    @property
    def line(self) -> int:
        return self.doc.line_of(self.loc)

    def line_of(self, *sub: Any) -> int:
        return self.doc.line_of(self.loc + sub)
