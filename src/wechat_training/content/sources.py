"""The company's policy documents: the declared list rules may cite (`sources.yaml`).

A rule's `source.file` (and a conflict's `file`) must be a document listed in
`sources.yaml` at the content root::

    sources:
      - file: 000_0cd102e73d5ed378.txt
        title: {zh: 新版微信管理办法, en: New WeChat management measures}
      - file: 员工手册2026.docx
        title: {zh: 员工手册（2026版）, en: Employee handbook 2026}

Any file name works once it is declared; an undeclared one is refused, however
much it looks like a seed file (issue 14). A tree without `sources.yaml` may
cite the kit's five seed policies (`SEED_DOCUMENTS`), nothing else.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import located_yaml
from .problems import Problem
from .schema import NonEmpty, Text

SOURCES_FILE = "sources.yaml"


class PolicyDocument(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    file: NonEmpty = Field(
        description="The document's file name: what rules cite as source.file (any name, e.g. 员工手册2026.docx)."
    )
    title: Text = Field(description="The document's title as the company calls it.")


class SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: list[PolicyDocument] = Field(
        min_length=1, description="Every policy document rules may cite, the seed policies among them."
    )


#: The five seed policies shipped with the kit (shared/seeds): what a tree without
#: sources.yaml may cite. The repository's own sources.yaml lists the same five.
SEED_DOCUMENTS = (
    PolicyDocument(
        file="000_0cd102e73d5ed378.txt", title=Text(zh="新版微信管理办法", en="New WeChat management measures")
    ),
    PolicyDocument(
        file="001_dd93bc8177184995.txt",
        title=Text(zh="企业微信使用规范与管理手册", en="WeCom usage and management handbook"),
    ),
    PolicyDocument(
        file="002_097950090c17042c.txt",
        title=Text(zh="微信管理办法（合集）", en="WeChat management measures (compilation)"),
    ),
    PolicyDocument(
        file="003_95a1d436b97c8935.txt",
        title=Text(zh="培训行业微信管理制度", en="WeChat rules of a training company"),
    ),
    PolicyDocument(
        file="004_d228f207da75af0f.txt", title=Text(zh="企业微信管理制度汇总", en="WeCom management rules, collected")
    ),
)


@dataclass(frozen=True)
class Sources:
    documents: tuple[PolicyDocument, ...]
    declared_in: str  #: where the list comes from, for messages

    @property
    def files(self) -> set[str]:
        return {d.file for d in self.documents}

    def unknown(self, file: str) -> str:
        """The message for a cited file that is not declared, with the nearest declared name."""
        near = difflib.get_close_matches(file, sorted(self.files), n=1)
        hint = f" (did you mean {near[0]}?)" if near else ""
        return f"source file '{file}' is not declared in {self.declared_in}{hint}; list it there with its title"


def load_sources(root: Path | str, problems: list[Problem]) -> Sources:
    """The declared documents of the tree at `root`; problems in sources.yaml are appended
    to `problems` (and the seed list stands in, so rules are still checked)."""
    path = Path(root) / SOURCES_FILE
    if not path.is_file():
        return Sources(SEED_DOCUMENTS, f"{SOURCES_FILE} (absent: only the kit's five seed policies may be cited)")
    try:
        doc = located_yaml.load(path, SOURCES_FILE)
    except located_yaml.YamlSyntaxError as exc:
        problems.append(exc.problem)
        return Sources(SEED_DOCUMENTS, SOURCES_FILE)
    try:
        parsed = SourcesFile.model_validate(doc.data)
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            message = str(err["msg"]).removeprefix("Value error, ")
            problems.append(Problem(SOURCES_FILE, doc.line_of(tuple(err["loc"])), f"{where}: {message}"))
        return Sources(SEED_DOCUMENTS, SOURCES_FILE)
    seen: set[str] = set()
    for i, document in enumerate(parsed.sources):
        if document.file in seen:
            problems.append(Problem(SOURCES_FILE, doc.line_of(("sources", i, "file")), f"{document.file} listed twice"))
        seen.add(document.file)
    return Sources(tuple(parsed.sources), SOURCES_FILE)
