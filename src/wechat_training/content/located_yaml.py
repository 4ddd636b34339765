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
    #: Keys that are really the tail of a text split at an unquoted comma inside
    #: `{...}` (`{en: My phone is dead, can I ...}`), with the text as meant.
    split_texts: dict[Loc, str] = field(default_factory=dict)

    def quoting_hint(self, loc: Loc) -> str:
        """For a problem at a split-off key: how to quote the text; '' otherwise."""
        meant = self.split_texts.get(tuple(loc))
        if meant is None:
            return ""
        return f" (an unquoted comma inside {{...}} ends a text: put the text in quotes, {meant})"

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


def _construct(
    node: yaml.Node, loc: Loc, lines: dict[Loc, int], doc_path: str, splits: dict[Loc, str] | None = None
) -> Any:
    splits = {} if splits is None else splits
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        previous: Any = None
        previous_key: Any = None
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            if key in result:
                raise YamlSyntaxError(Problem(doc_path, key_node.start_mark.line + 1, f"duplicate key '{key}'"))
            if _split_off(node, key, value_node) and isinstance(previous, str):
                meant = f"{previous}, {key}".replace('"', '\\"')
                splits[loc + (key,)] = f'{previous_key}: "{meant}"'
            result[key] = previous = _construct(value_node, loc + (key,), lines, doc_path, splits)
            previous_key = key
            # A key's own line is more useful than its value's for block values.
            lines[loc + (key,)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, loc + (i,), lines, doc_path, splits) for i, item in enumerate(node.value)]
    return _scalar(node)


def _split_off(mapping: yaml.MappingNode, key: Any, value: yaml.Node) -> bool:
    """A key with no value, with spaces in it, inside `{...}`: the rest of a text after a comma."""
    return (
        bool(mapping.flow_style)
        and isinstance(key, str)
        and " " in key.strip()
        and isinstance(value, yaml.ScalarNode)
        and value.tag == "tag:yaml.org,2002:null"
        and value.value == ""
    )


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
        hint = ""
        if "flow" in str(exc.context or ""):
            # PyYAML stops at '?' before '}' or at a stray ':' inside {...}; quoting the text fixes both.
            hint = " (inside {...} or [...] put a text holding , : ? or # in double quotes)"
        raise YamlSyntaxError(Problem(display, line, f"YAML syntax error: {exc.problem}{hint}")) from exc
    if node is None:
        return LocatedDocument(display, None, {(): 1})
    lines: dict[Loc, int] = {}
    splits: dict[Loc, str] = {}
    try:
        data = _construct(node, (), lines, display, splits)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlSyntaxError(Problem(display, mark.line + 1 if mark else 1, f"YAML error: {exc.problem}")) from exc
    return LocatedDocument(display, data, lines, splits)


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
