"""Severity triage (P-SLA-1..4, R-SEVERITY): the intake's questions as a decision tree, and the response targets.

The tree (``DEFAULT_FLOW``) is data: ``next_question`` walks it to find what to ask next, ``triage``
walks it to the leaf that gives the severity, and both stop as soon as a leaf is reached, so the intake
asks only what changes the answer.

How the edge cases map, and why:

* A usage question, a suggestion or a documentation clarification is severity 4 at once (P-SLA-4):
  nothing is broken, so reach does not matter.
* "Not as documented / unexpected results" is severity 3 at once (P-SLA-3): P-SLA-3 defines it as the
  medium-impact case, so asking about reach would only tempt a jump to 1 for a deviation nobody is
  blocked by.
* R-SEVERITY: severity 1 needs a service that "no funciona en absoluto" AND many users affected or a
  business system inoperable. Down entirely for the client's area or the whole company is severity 1:
  "a significant number of users affected" (P-SLA-1); a whole area counts as significant.
* Down entirely but only for the client: one person unable to work, a high impact (P-SLA-2), unless what
  stopped is a business system (billing, sales, production), which is P-SLA-1's third case.
* Working wrongly ("no funciona correctamente") with high impact is severity 2 (P-SLA-2) whatever the reach:
  it works, so it is not "no funciona en absoluto", and reach is not asked (it would change nothing).
* Working wrongly with medium impact: severity 3 (P-SLA-3), whatever the reach.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import timedelta
from enum import Enum, StrEnum
from math import isfinite
from types import MappingProxyType
from typing import TypeAlias

from bot.domain.errors import IncompleteTriage, InvalidAnswer, InvalidInput
from bot.domain.types import Severity

__all__ = [
    "ANSWER_TYPES",
    "DEFAULT_FLOW",
    "DEFAULT_RESPONSE_HOURS",
    "Answer",
    "Ask",
    "BusinessSystem",
    "Impact",
    "Leaf",
    "Node",
    "Question",
    "Reach",
    "Symptom",
    "TriageAnswers",
    "TriageBasis",
    "answer",
    "choices",
    "next_question",
    "parse_answer",
    "response_target",
    "triage",
    "triage_leaf",
]

# P-SLA-1..4: response targets in business hours; settings may override them.
DEFAULT_RESPONSE_HOURS: Mapping[Severity, float] = MappingProxyType(
    {Severity.CRITICAL: 8, Severity.HIGH: 10, Severity.MEDIUM: 12, Severity.LOW: 24}
)


class Question(StrEnum):
    """The triage questions, in the order the tree may ask them."""

    SYMPTOM = "symptom"
    IMPACT = "impact"
    REACH = "reach"
    BUSINESS_SYSTEM = "business_system"


class Symptom(StrEnum):
    """What the client reports first."""

    DOWN = "down"  # not working at all
    WORKS_INCORRECTLY = "works_incorrectly"
    NOT_AS_DOCUMENTED = "not_as_documented"  # also "unexpected results"
    USAGE_QUESTION = "usage_question"
    SUGGESTION = "suggestion"
    DOCUMENTATION = "documentation"  # a documentation clarification


class Impact(StrEnum):
    """How much a wrongly working service hurts the client's operation."""

    HIGH = "high"
    MEDIUM = "medium"


class Reach(StrEnum):
    """How many people the problem affects."""

    ONLY_ME = "only_me"
    MY_AREA = "my_area"
    WHOLE_COMPANY = "whole_company"


class BusinessSystem(StrEnum):
    """Whether a business system (billing, sales, production…) is inoperable."""

    INOPERABLE = "inoperable"
    WORKING = "working"


Answer: TypeAlias = Symptom | Impact | Reach | BusinessSystem

# Which answer type each question takes, and which TriageAnswers field stores it.
ANSWER_TYPES: Mapping[Question, type[Enum]] = MappingProxyType(
    {
        Question.SYMPTOM: Symptom,
        Question.IMPACT: Impact,
        Question.REACH: Reach,
        Question.BUSINESS_SYSTEM: BusinessSystem,
    }
)


@dataclass(frozen=True)
class TriageAnswers:
    """The client's answers so far; a field is None until its question is answered."""

    symptom: Symptom | None = None
    impact: Impact | None = None
    reach: Reach | None = None
    business_system: BusinessSystem | None = None

    def __post_init__(self) -> None:
        # Drafts come back from storage: refuse a raw string instead of comparing it wrongly later.
        for question in Question:
            value = getattr(self, question.value)
            expected = ANSWER_TYPES[question]
            if value is not None and not isinstance(value, expected):
                raise InvalidAnswer(f"{question.value} must be a {expected.__name__}, got {value!r}")

    def get(self, question: Question) -> Answer | None:
        """The stored answer to `question`, or None."""
        value: Answer | None = getattr(self, question.value)
        return value


class TriageBasis(StrEnum):
    """Why a path ends where it does (kept in the audit trail next to the severity)."""

    SIGNIFICANT_USERS = "significant_users"
    BUSINESS_SYSTEM_INOPERABLE = "business_system_inoperable"
    HIGH_IMPACT = "high_impact"
    MEDIUM_IMPACT = "medium_impact"
    NOT_AS_DOCUMENTED = "not_as_documented"
    QUESTION = "question"


@dataclass(frozen=True)
class Leaf:
    """The end of a triage path: the severity, the policy rule that gives it and why."""

    severity: Severity
    rule: str
    basis: TriageBasis


@dataclass(frozen=True)
class Ask:
    """A triage step: ask `question`, then follow the branch of the answer."""

    question: Question
    branches: Mapping[Answer, Node]

    def __post_init__(self) -> None:
        # A tree that misses a choice would leave a client stuck mid-intake: refuse it when built.
        expected = set(ANSWER_TYPES[self.question])
        if set(self.branches) != expected:
            names = sorted(str(member.value) for member in expected)
            raise InvalidInput(f"branches of {self.question.value} must cover exactly {names}")


Node: TypeAlias = Ask | Leaf

_SEV1_USERS = Leaf(Severity.CRITICAL, "P-SLA-1", TriageBasis.SIGNIFICANT_USERS)
_SEV1_BUSINESS = Leaf(Severity.CRITICAL, "P-SLA-1", TriageBasis.BUSINESS_SYSTEM_INOPERABLE)
_SEV2 = Leaf(Severity.HIGH, "P-SLA-2", TriageBasis.HIGH_IMPACT)
_SEV3_MEDIUM = Leaf(Severity.MEDIUM, "P-SLA-3", TriageBasis.MEDIUM_IMPACT)
_SEV3_DOCUMENTED = Leaf(Severity.MEDIUM, "P-SLA-3", TriageBasis.NOT_AS_DOCUMENTED)
_SEV4 = Leaf(Severity.LOW, "P-SLA-4", TriageBasis.QUESTION)


def _reach_then_business_system() -> Ask:
    only_me = Ask(
        Question.BUSINESS_SYSTEM,
        {BusinessSystem.INOPERABLE: _SEV1_BUSINESS, BusinessSystem.WORKING: _SEV2},
    )
    return Ask(
        Question.REACH,
        {Reach.ONLY_ME: only_me, Reach.MY_AREA: _SEV1_USERS, Reach.WHOLE_COMPANY: _SEV1_USERS},
    )


DEFAULT_FLOW: Node = Ask(
    Question.SYMPTOM,
    {
        Symptom.DOWN: _reach_then_business_system(),
        # R-SEVERITY: "no funciona correctamente" with high impact is 2, never 1 (it works, however badly).
        Symptom.WORKS_INCORRECTLY: Ask(Question.IMPACT, {Impact.HIGH: _SEV2, Impact.MEDIUM: _SEV3_MEDIUM}),
        Symptom.NOT_AS_DOCUMENTED: _SEV3_DOCUMENTED,
        Symptom.USAGE_QUESTION: _SEV4,
        Symptom.SUGGESTION: _SEV4,
        Symptom.DOCUMENTATION: _SEV4,
    },
)


def _walk(answers: TriageAnswers, flow: Node) -> Node:
    """Follow the answers down the tree; stop at a leaf or at the first unanswered question."""
    node = flow
    while isinstance(node, Ask):
        value = answers.get(node.question)
        if value is None:
            return node
        node = node.branches[value]
    return node


def next_question(partial: TriageAnswers, flow: Node = DEFAULT_FLOW) -> Question | None:
    """The next question to ask, or None when the answers already decide the severity."""
    node = _walk(partial, flow)
    return node.question if isinstance(node, Ask) else None


def triage_leaf(answers: TriageAnswers, flow: Node = DEFAULT_FLOW) -> Leaf:
    """The leaf the answers reach (severity and rule id); IncompleteTriage if a needed answer is missing."""
    node = _walk(answers, flow)
    if isinstance(node, Ask):
        raise IncompleteTriage(node.question)
    return node


def triage(answers: TriageAnswers, flow: Node = DEFAULT_FLOW) -> Severity:
    """The severity the answers give (P-SLA-1..4); IncompleteTriage if a needed answer is missing."""
    return triage_leaf(answers, flow).severity


def choices(question: Question) -> tuple[Answer, ...]:
    """The answers a question offers, in display order (the adapter renders them as buttons)."""
    members: tuple[Answer, ...] = tuple(ANSWER_TYPES[question])
    return members


def parse_answer(question: Question, code: str) -> Answer:
    """Turn a button's answer code back into its enum; InvalidAnswer if the code is not a choice."""
    for member in choices(question):
        if member.value == code:
            return member
    raise InvalidAnswer(f"{code!r} is not an answer to {question.value}")


def answer(partial: TriageAnswers, question: Question, value: Answer) -> TriageAnswers:
    """Record an answer and forget the later ones, which may no longer apply (the client went back)."""
    if not isinstance(value, ANSWER_TYPES[question]):
        raise InvalidAnswer(f"{value!r} is not an answer to {question.value}")
    order = [f.name for f in fields(TriageAnswers)]
    later = order[order.index(question.value) + 1 :]
    changes: dict[str, Answer | None] = {question.value: value, **dict.fromkeys(later)}
    return replace(partial, **changes)  # type: ignore[arg-type]


def response_target(severity: Severity, hours: Mapping[Severity, float] = DEFAULT_RESPONSE_HOURS) -> timedelta:
    """The response target of a severity, in business hours (the calendar turns it into a deadline)."""
    if not isinstance(severity, Severity):
        raise InvalidInput(f"not a severity: {severity!r}")
    if severity not in hours:
        raise InvalidInput(f"no response target configured for severity {int(severity)}")
    value = hours[severity]
    if not isfinite(value) or value <= 0:
        raise InvalidInput(f"response target for severity {int(severity)} must be positive, got {value!r}")
    return timedelta(hours=value)
