"""Pydantic models for authored content: rules, questions, modules.

Every field carries a description (it is the authoring reference, see
docs/content-format.md) and unknown keys are errors, so a typo in a YAML key is
reported instead of silently ignored.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

AREAS: tuple[str, ...] = (
    "account_security",
    "publishing",
    "confidentiality",
    "customer_contact",
    "group_chats",
    "oversight",
)

#: Rule id prefix per area; a rule id is PREFIX-NNN, a question id Q-PREFIX-NNN.
AREA_PREFIX: dict[str, str] = {
    "account_security": "ACC",
    "publishing": "PUB",
    "confidentiality": "CON",
    "customer_contact": "CUS",
    "group_chats": "GRP",
    "oversight": "OVS",
}

RULE_ID_PATTERN = r"^(ACC|PUB|CON|CUS|GRP|OVS)-\d{3}$"
QUESTION_ID_PATTERN = r"^Q-(ACC|PUB|CON|CUS|GRP|OVS)-\d{3}$"
#: Placeholder text of a `wechat-training new` skeleton: a published (non-draft) item holding it is an error.
SKELETON_MARK = "TODO"
CHOICE_ID_PATTERN = r"^[a-z]$"

Area = Literal[
    "account_security",
    "publishing",
    "confidentiality",
    "customer_contact",
    "group_chats",
    "oversight",
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


NonEmpty = Annotated[str, Field(min_length=1)]
#: A rule or question still being written (`wechat-training new`): checked and previewable,
#: but never shown to learners, drawn, put in a module or an nbgrader assignment. Left out
#: of dumps while false, so published content keeps its content version.
Draft = Annotated[
    bool,
    Field(
        exclude_if=lambda v: v is False,
        description="A skeleton still being written (`wechat-training new`): checked, previewable, but never "
        "shown to learners, drawn, put in a module or an nbgrader assignment. Remove the line to publish.",
    ),
]


class Text(Strict):
    """A text in simplified Chinese first, English beside it."""

    zh: NonEmpty = Field(description="Simplified Chinese text (shown by default).")
    en: NonEmpty = Field(description="English text (shown when the learner switches language).")

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


class Severity(str, Enum):
    red_line = "red_line"
    major = "major"
    minor = "minor"


class Conflict(Strict):
    """Another policy that says something different on the same point, and why we follow ours."""

    file: NonEmpty = Field(description="Policy file whose wording we do not follow on this point.")
    document: str | None = Field(
        default=None, description="Title of the document inside the file, where the file holds several."
    )
    section: NonEmpty = Field(description="Section heading of the conflicting passage, as written there.")
    reason: Text = Field(description="One line: what the other policy says and why this rule follows its own source.")


class Source(Strict):
    # Fields added after the first release are left out of dumps while they hold their
    # default, so unchanged content keeps its content version (and its passes).
    kind: Literal["seed", "company"] = Field(
        default="seed",
        exclude_if=lambda v: v == "seed",
        description="seed: the rule paraphrases this policy section; company: a clause our company adds, "
        "which no policy document states (shown as such on the rule card).",
    )
    file: str | None = Field(
        default=None, description="Seed policy file name under shared/seeds, e.g. 000_0cd102e73d5ed378.txt."
    )
    document: str | None = Field(
        default=None,
        exclude_if=lambda v: v is None,
        description="Title of the document inside the file, where the file holds several (002 is a compilation).",
    )
    section: str | None = Field(
        default=None, description="Section heading of the seed policy the rule paraphrases, as written there."
    )
    clause: Text | None = Field(
        default=None,
        exclude_if=lambda v: v is None,
        description="company only: the part of the rule that is the company's own addition.",
    )
    conflicts: list[Conflict] = Field(
        default_factory=list,
        exclude_if=lambda v: not v,
        description="Policies that disagree with this source on the rule's point, each with why we follow this one.",
    )

    @model_validator(mode="after")
    def _fields_of_kind(self) -> Source:
        if self.kind == "seed":
            if not self.file or not self.section:
                raise ValueError("a seed source needs both file and section")
            if self.clause is not None:
                raise ValueError("clause belongs to a company source (kind: company), not a seed citation")
        elif self.clause is None:
            raise ValueError("a company source needs clause: the part of the rule the company adds")
        return self


class Rule(Strict):
    id: str = Field(pattern=RULE_ID_PATTERN, description="Stable ASCII id, AREA-NNN (e.g. ACC-003); never changes.")
    area: Area = Field(description="Rule area; must match the prefix of the id.")
    title: Text = Field(description="Short title of the rule.")
    text: Text = Field(description="What the rule requires or forbids, in our own words.")
    why: Text = Field(description="Why the rule exists: the risk it guards against.")
    severity: Severity = Field(description="red_line (one breach is serious misconduct), major or minor.")
    consequence: Text | None = Field(
        default=None, description="What happens to someone who breaks it, where a seed policy states it."
    )
    source: list[Source] = Field(min_length=1, description="Seed file(s) and section(s) this rule paraphrases.")
    version: int = Field(
        ge=1, description="Bumped whenever the rule's meaning changes; passes on older versions expire."
    )
    draft: Draft = False

    @model_validator(mode="after")
    def _prefix_matches_area(self) -> Rule:
        expected = AREA_PREFIX[self.area]
        if not self.id.startswith(expected + "-"):
            raise ValueError(f"rule id {self.id} does not match area {self.area} (expected prefix {expected}-)")
        return self


class Choice(Strict):
    id: str = Field(pattern=CHOICE_ID_PATTERN, description="One lower-case letter, unique in the question.")
    text: Text = Field(description="What the learner sees for this option.")
    correct: bool = Field(default=False, description="True for a correct option.")
    feedback: Text | None = Field(default=None, description="Feedback shown when the learner picks this option.")


class ChatRole(str, Enum):
    me = "me"  # the learner: bubbles on the right
    colleague = "colleague"
    manager = "manager"
    customer = "customer"
    stranger = "stranger"
    system = "system"


class ChatMessage(Strict):
    sender: Text = Field(description="Display name of the sender (fictional).")
    role: ChatRole = Field(description="me (the learner), colleague, manager, customer, stranger or system.")
    time: str = Field(pattern=r"^\d{2}:\d{2}$", description="Clock time shown on the bubble, HH:MM.")
    text: Text = Field(description="The message.")


QuestionType = Literal["single", "multiple", "true_false", "scenario"]


class Question(Strict):
    id: str = Field(pattern=QUESTION_ID_PATTERN, description="Stable ASCII id, Q-AREA-NNN; never changes.")
    type: QuestionType = Field(
        description="single (one correct choice), multiple (one or more), true_false, or scenario (chat + one correct action)."
    )
    rules: list[str] = Field(min_length=1, description="Ids of the rules this question tests.")
    prompt: Text = Field(description="The question, or for a scenario the decision the learner must take.")
    chat: list[ChatMessage] | None = Field(
        default=None, description="Scenario only: the simulated WeChat exchange, 2 to 6 messages."
    )
    choices: list[Choice] | None = Field(default=None, description="Options (not for true_false).")
    answer: bool | None = Field(default=None, description="true_false only: whether the statement is true.")
    explanation: Text = Field(description="Feedback shown after answering: why, citing the rule.")
    points: int = Field(default=1, ge=1, description="Points this question is worth.")
    shuffle: bool = Field(
        default=True,
        exclude_if=lambda v: v is True,
        description="Whether choice order is shuffled per employee and attempt; false needs shuffle_reason.",
    )
    shuffle_reason: str | None = Field(
        default=None, exclude_if=lambda v: v is None, description="Why this question keeps its authored choice order (required with shuffle: false)."
    )
    draft: Draft = False

    @model_validator(mode="after")
    def _keeping_order_needs_reason(self) -> Question:
        if not self.shuffle and not self.shuffle_reason:
            raise ValueError("shuffle: false needs shuffle_reason (why the choice order must stay as written)")
        return self

    @property
    def area_prefix(self) -> str:
        return self.id.split("-")[1]

    def correct_choice_ids(self) -> frozenset[str]:
        if self.type == "true_false":
            return frozenset({"true" if self.answer else "false"})
        return frozenset(c.id for c in self.choices or () if c.correct)


class Draw(Strict):
    count: int = Field(ge=0, description="How many questions to draw at random for each employee.")
    pool: list[str] | None = Field(
        default=None,
        description="Question ids to draw from; default: every question of the module's area not in `fixed`.",
    )


class Module(Strict):
    id: Area = Field(description="Module id: the area it trains (one module per area).")
    title: Text = Field(description="Module title shown in the portal.")
    intro: Text = Field(description="One paragraph shown before the rules.")
    fixed: list[str] = Field(default_factory=list, description="Question ids every employee is asked.")
    draw: Draw = Field(description="The seeded random draw added to the fixed questions.")
    pass_mark: float = Field(gt=0, le=1, description="Share of points needed to pass, e.g. 0.8.")
    red_line_questions: list[str] = Field(
        default_factory=list,
        description="Question ids that fail the module when answered wrong, whatever the total (must be in `fixed`).",
    )
    # Left out of dumps while empty, so a module without it keeps its content version.
    practice: list[str] = Field(
        default_factory=list,
        exclude_if=lambda v: not v,
        description="Practice-only question ids: shown with their answers in practice and scenarios, never "
        "asked in the graded quiz (not in `fixed`, not drawn). Without it practice has no questions.",
    )
