"""The departments and roles a campaign's audiences name, their aliases, and the names
no one on the roster holds.

A campaign written for "Sales" while the roster says 销售部 used to assign the
module to nobody, silently (issue 14). Now every name an audience uses is kept
with its file and line, `aliases` in the campaign file maps other names to the
roster's, and `unknown_audience` reports each name the roster does not hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from . import located_yaml
from .problems import Problem

Kind = Literal["department", "role"]


class Aliases(BaseModel):
    """Other names a campaign may use for a roster's department or role (e.g. English ones)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    departments: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Roster department name -> other names for it used in audiences, e.g. 销售部: [Sales].",
    )
    roles: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Roster role name -> other names for it used in audiences, e.g. 客户经理: [Relationship Manager].",
    )


@dataclass(frozen=True)
class AudienceName:
    """A department or role an audience names, with where it is written (to report it by name)."""

    kind: Kind
    written: str  #: as written in the campaign
    roster_name: str  #: after aliases: the name the roster must hold
    campaign_id: str
    path: str
    line: int


def alias_table(
    aliases: Aliases, shown: str, doc: located_yaml.LocatedDocument, problems: list[Problem]
) -> dict[str, dict[str, str]]:
    """{kind: {other name: roster name}}; an other name given to two roster names is a problem."""
    table: dict[str, dict[str, str]] = {"department": {}, "role": {}}
    for kind, mapping in (("department", aliases.departments), ("role", aliases.roles)):
        for roster_name, others in mapping.items():
            for other in others:
                earlier = table[kind].get(other)
                if earlier is not None and earlier != roster_name:
                    line = doc.line_of(("aliases", kind + "s", roster_name))
                    problems.append(
                        Problem(shown, line, f"alias {other!r} names two {kind}s: {earlier} and {roster_name}")
                    )
                table[kind][other] = roster_name
    return table


def audience_names(
    campaign_id: str,
    audience: Any,
    aliases: dict[str, dict[str, str]],
    shown: str,
    doc: located_yaml.LocatedDocument,
    at: tuple[Any, ...],
) -> tuple[dict[str, list[str]], list[AudienceName]]:
    """The audience's department and role lists in roster names, and every name it uses with its line
    (`at` is the audience's path in the document)."""
    named: list[AudienceName] = []
    resolved: dict[str, list[str]] = {}
    kinds: tuple[tuple[Kind, str], ...] = (("department", "departments"), ("role", "roles"))
    for kind, key in kinds:
        out = []
        for i, written in enumerate(getattr(audience, key)):
            roster_name = aliases[kind].get(written, written)
            out.append(roster_name)
            named.append(AudienceName(kind, written, roster_name, campaign_id, shown, doc.line_of(at + (key, i))))
        resolved[key] = out
    return resolved, named


def unknown_audience(names: tuple[AudienceName, ...], departments: set[str], roles: set[str]) -> list[Problem]:
    """One problem per department or role an audience names that nobody on the roster has,
    at its campaign line, naming what the roster holds instead."""
    known = {"department": {str(d) for d in departments}, "role": {str(r) for r in roles}}
    problems = []
    for name in names:
        if name.roster_name in known[name.kind]:
            continue
        alias = f" (alias of {name.roster_name!r})" if name.roster_name != name.written else ""
        holds = ", ".join(sorted(v for v in known[name.kind] if v)[:12]) or "none"
        problems.append(
            Problem(
                name.path,
                name.line,
                f"campaign {name.campaign_id}: {name.kind} {name.written!r}{alias} is not on the roster, "
                f"so nobody is assigned through it (roster {name.kind}s: {holds}); write the roster's "
                f"name or map it under aliases: {name.kind}s:",
            )
        )
    return problems
