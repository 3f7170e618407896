"""Severity triage (P-SLA-1..4): every path of the question flow, the answer helpers and the targets."""

from __future__ import annotations

from dataclasses import fields
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.errors import IncompleteTriage, InvalidAnswer, InvalidInput
from bot.domain.severity import (
    ANSWER_TYPES,
    DEFAULT_FLOW,
    DEFAULT_RESPONSE_HOURS,
    Ask,
    BusinessSystem,
    Impact,
    Leaf,
    Question,
    Reach,
    Symptom,
    TriageAnswers,
    TriageBasis,
    answer,
    choices,
    next_question,
    parse_answer,
    response_target,
    triage,
    triage_leaf,
)
from bot.domain.types import Severity

Q = Question
# Every complete path of the flow: the answers in the order asked, the severity, the rule and why.
PATHS: list[Any] = [
    pytest.param([Symptom.USAGE_QUESTION], Severity.LOW, "P-SLA-4", TriageBasis.QUESTION, id="P-SLA-4-usage-question"),
    pytest.param([Symptom.SUGGESTION], Severity.LOW, "P-SLA-4", TriageBasis.QUESTION, id="P-SLA-4-suggestion"),
    pytest.param([Symptom.DOCUMENTATION], Severity.LOW, "P-SLA-4", TriageBasis.QUESTION, id="P-SLA-4-documentation"),
    pytest.param(
        [Symptom.NOT_AS_DOCUMENTED],
        Severity.MEDIUM,
        "P-SLA-3",
        TriageBasis.NOT_AS_DOCUMENTED,
        id="P-SLA-3-not-as-documented",
    ),
    pytest.param(
        [Symptom.DOWN, Reach.WHOLE_COMPANY],
        Severity.CRITICAL,
        "P-SLA-1",
        TriageBasis.SIGNIFICANT_USERS,
        id="P-SLA-1-down-whole-company",
    ),
    pytest.param(
        [Symptom.DOWN, Reach.MY_AREA],
        Severity.CRITICAL,
        "P-SLA-1",
        TriageBasis.SIGNIFICANT_USERS,
        id="P-SLA-1-down-my-area",
    ),
    pytest.param(
        [Symptom.DOWN, Reach.ONLY_ME, BusinessSystem.INOPERABLE],
        Severity.CRITICAL,
        "P-SLA-1",
        TriageBasis.BUSINESS_SYSTEM_INOPERABLE,
        id="P-SLA-1-down-only-me-business-system-inoperable",
    ),
    pytest.param(
        [Symptom.DOWN, Reach.ONLY_ME, BusinessSystem.WORKING],
        Severity.HIGH,
        "P-SLA-2",
        TriageBasis.HIGH_IMPACT,
        id="P-SLA-2-down-only-me",
    ),
    pytest.param(
        [Symptom.WORKS_INCORRECTLY, Impact.MEDIUM],
        Severity.MEDIUM,
        "P-SLA-3",
        TriageBasis.MEDIUM_IMPACT,
        id="P-SLA-3-works-incorrectly-medium-impact",
    ),
    pytest.param(
        [Symptom.WORKS_INCORRECTLY, Impact.HIGH],
        Severity.HIGH,
        "P-SLA-2",
        TriageBasis.HIGH_IMPACT,
        id="R-SEVERITY-P-SLA-2-works-incorrectly-high-impact",
    ),
]

_QUESTION_OF: dict[type, Question] = {kind: question for question, kind in ANSWER_TYPES.items()}


def _question_of(value: Any) -> Question:
    return _QUESTION_OF[type(value)]


# R-SEVERITY, as the seed words each level ("Niveles de Severidad / Condiciones"): whatever the client
# answered, the severity each set of answers must give. Extra answers (a reach given where it is not asked,
# as a client going back and forth leaves them) change nothing the seed does not say they change.
W, A = Symptom.WORKS_INCORRECTLY, Symptom.NOT_AS_DOCUMENTED
SEED_TABLE: list[Any] = [
    # 1: "fuera de servicio y no funciona en absoluto" AND ("número significativo de usuarios" OR "sistema de
    # negocio inoperable")
    pytest.param({"symptom": Symptom.DOWN, "reach": Reach.WHOLE_COMPANY}, 1, id="down-whole-company-1"),
    pytest.param({"symptom": Symptom.DOWN, "reach": Reach.MY_AREA}, 1, id="down-my-area-1"),
    pytest.param(
        {"symptom": Symptom.DOWN, "reach": Reach.ONLY_ME, "business_system": BusinessSystem.INOPERABLE},
        1,
        id="down-only-me-business-system-inoperable-1",
    ),
    # 2: "no funciona correctamente creando un impacto significativo (alto)"
    pytest.param(
        {"symptom": Symptom.DOWN, "reach": Reach.ONLY_ME, "business_system": BusinessSystem.WORKING},
        2,
        id="down-only-me-2",
    ),
    pytest.param({"symptom": W, "impact": Impact.HIGH}, 2, id="works-wrongly-high-impact-2"),
    pytest.param(
        {"symptom": W, "impact": Impact.HIGH, "reach": Reach.MY_AREA},
        2,
        id="measured-bug-works-wrongly-a-lot-my-area-2",
    ),
    pytest.param(
        {"symptom": W, "impact": Impact.HIGH, "reach": Reach.WHOLE_COMPANY}, 2, id="works-wrongly-a-lot-company-2"
    ),
    pytest.param(
        {"symptom": W, "impact": Impact.HIGH, "reach": Reach.ONLY_ME, "business_system": BusinessSystem.INOPERABLE},
        2,
        id="works-wrongly-a-lot-business-system-2",
    ),
    # 3: "no funciona de acuerdo a lo documentado", "resultados inesperados", "impacto operaciones medio"
    pytest.param({"symptom": A}, 3, id="not-as-documented-3"),
    pytest.param({"symptom": A, "reach": Reach.WHOLE_COMPANY}, 3, id="not-as-documented-whole-company-3"),
    pytest.param({"symptom": W, "impact": Impact.MEDIUM}, 3, id="works-wrongly-medium-impact-3"),
    pytest.param(
        {"symptom": W, "impact": Impact.MEDIUM, "reach": Reach.WHOLE_COMPANY}, 3, id="medium-impact-company-3"
    ),
    # 4: "preguntas de uso", "sugerencias", "clarificación de la documentación"
    pytest.param({"symptom": Symptom.USAGE_QUESTION}, 4, id="usage-question-4"),
    pytest.param({"symptom": Symptom.SUGGESTION}, 4, id="suggestion-4"),
    pytest.param({"symptom": Symptom.DOCUMENTATION}, 4, id="documentation-4"),
    pytest.param({"symptom": Symptom.USAGE_QUESTION, "reach": Reach.WHOLE_COMPANY}, 4, id="question-company-4"),
]


@pytest.mark.parametrize(("answers", "severity"), SEED_TABLE)
def test_r_severity_the_seed_s_conditions_as_written(answers: dict[str, Any], severity: int) -> None:
    """R-SEVERITY, P-SLA-1..4: severity 1 needs "no funciona en absoluto" and many users or a business system
    down; "funciona, pero mal + mucho + a mi área" is 2 (P-SLA-2), never 1."""
    assert len(SEED_TABLE) >= 12
    assert triage(TriageAnswers(**answers)) == severity


def test_r_severity_working_wrongly_with_high_impact_asks_no_reach() -> None:
    """R-SEVERITY: the reach cannot change a severity 2 that works however badly, so it is not asked."""
    assert next_question(TriageAnswers(symptom=Symptom.WORKS_INCORRECTLY, impact=Impact.HIGH)) is None


def _leaves(node: Ask | Leaf) -> int:
    if isinstance(node, Leaf):
        return 1
    return sum(_leaves(child) for child in node.branches.values())


@pytest.mark.parametrize(("path", "severity", "rule", "basis"), PATHS)
def test_flow_asks_each_question_in_turn_then_stops(
    path: list[Any], severity: Severity, rule: str, basis: TriageBasis
) -> None:
    """Each answer leads to exactly the next question of the path, and nothing is asked after the last."""
    partial = TriageAnswers()
    for value in path:
        assert next_question(partial) is _question_of(value)
        with pytest.raises(IncompleteTriage):
            triage(partial)
        partial = answer(partial, _question_of(value), value)
    assert next_question(partial) is None
    assert triage(partial) is severity
    leaf = triage_leaf(partial)
    assert (leaf.rule, leaf.basis) == (rule, basis)


def test_paths_table_covers_every_leaf_of_the_flow() -> None:
    """The table above is the whole tree: a new branch without a test fails here."""
    assert _leaves(DEFAULT_FLOW) == len(PATHS)


def test_p_sla_1_down_whole_company_asks_nothing_more() -> None:
    """P-SLA-1: "down entirely" + "whole company" is severity 1 after two questions."""
    answers = TriageAnswers(symptom=Symptom.DOWN, reach=Reach.WHOLE_COMPANY)
    assert next_question(answers) is None
    assert triage(answers) is Severity.CRITICAL


def test_p_sla_4_question_ends_triage_at_once() -> None:
    """P-SLA-4: a usage question needs no second question."""
    assert next_question(TriageAnswers(symptom=Symptom.USAGE_QUESTION)) is None


def test_p_sla_3_not_as_documented_ignores_reach() -> None:
    """P-SLA-3: reach given by mistake does not lift a documentation mismatch to severity 1."""
    answers = TriageAnswers(symptom=Symptom.NOT_AS_DOCUMENTED, reach=Reach.WHOLE_COMPANY)
    assert triage(answers) is Severity.MEDIUM


def test_first_question_is_the_symptom() -> None:
    assert next_question(TriageAnswers()) is Question.SYMPTOM


def test_incomplete_triage_names_the_missing_question() -> None:
    with pytest.raises(IncompleteTriage) as caught:
        triage(TriageAnswers(symptom=Symptom.DOWN, reach=Reach.ONLY_ME))
    assert caught.value.missing is Question.BUSINESS_SYSTEM
    assert isinstance(caught.value, ValueError)


def test_answer_forgets_later_answers_when_client_goes_back() -> None:
    """Changing the symptom drops the reach given for the old symptom, so the flow asks again."""
    answers = TriageAnswers(symptom=Symptom.DOWN, reach=Reach.ONLY_ME, business_system=BusinessSystem.WORKING)
    changed = answer(answers, Question.SYMPTOM, Symptom.WORKS_INCORRECTLY)
    assert changed == TriageAnswers(symptom=Symptom.WORKS_INCORRECTLY)
    assert next_question(changed) is Question.IMPACT


def test_answer_order_matches_question_order() -> None:
    """`answer` relies on the dataclass fields being declared in question order."""
    assert [f.name for f in fields(TriageAnswers)] == [q.value for q in Question]


@pytest.mark.parametrize(
    ("question", "value"),
    [
        (Question.SYMPTOM, Reach.ONLY_ME),
        (Question.REACH, Symptom.DOWN),
        (Question.IMPACT, BusinessSystem.WORKING),
        (Question.BUSINESS_SYSTEM, Impact.HIGH),
    ],
)
def test_answer_refuses_value_of_another_question(question: Question, value: Any) -> None:
    with pytest.raises(InvalidAnswer):
        answer(TriageAnswers(), question, value)


@pytest.mark.parametrize("field", [q.value for q in Question])
def test_answers_refuse_raw_strings(field: str) -> None:
    """A draft row read back as plain text must not pass for an enum (StrEnum compares equal to str)."""
    raw = next(iter(ANSWER_TYPES[Question(field)])).value
    with pytest.raises(InvalidAnswer):
        TriageAnswers(**{field: raw})


@pytest.mark.parametrize("question", list(Question))
def test_parse_answer_round_trips_every_choice(question: Question) -> None:
    for choice in choices(question):
        assert parse_answer(question, choice.value) is choice


@pytest.mark.parametrize(("question", "code"), [(Q.SYMPTOM, "only_me"), (Q.REACH, ""), (Q.IMPACT, "HIGH")])
def test_parse_answer_refuses_unknown_codes(question: Question, code: str) -> None:
    with pytest.raises(InvalidAnswer):
        parse_answer(question, code)


def test_ask_refuses_a_branch_table_missing_a_choice() -> None:
    """A tree that forgets a choice would strand a client mid-intake."""
    with pytest.raises(InvalidInput):
        Ask(Question.IMPACT, {Impact.HIGH: Leaf(Severity.HIGH, "P-SLA-2", TriageBasis.HIGH_IMPACT)})


@pytest.mark.parametrize(
    ("severity", "hours"),
    [
        pytest.param(Severity.CRITICAL, 8, id="P-SLA-1-8h"),
        pytest.param(Severity.HIGH, 10, id="P-SLA-2-10h"),
        pytest.param(Severity.MEDIUM, 12, id="P-SLA-3-12h"),
        pytest.param(Severity.LOW, 24, id="P-SLA-4-24h"),
    ],
)
def test_response_target_defaults(severity: Severity, hours: int) -> None:
    assert response_target(severity) == timedelta(hours=hours)


def test_response_target_uses_configured_hours() -> None:
    custom = {**DEFAULT_RESPONSE_HOURS, Severity.CRITICAL: 4.5}
    assert response_target(Severity.CRITICAL, custom) == timedelta(hours=4, minutes=30)


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf")])
def test_response_target_refuses_non_positive_or_non_finite_hours(bad: float) -> None:
    with pytest.raises(InvalidInput):
        response_target(Severity.HIGH, {**DEFAULT_RESPONSE_HOURS, Severity.HIGH: bad})


def test_response_target_refuses_missing_severity_and_non_severity() -> None:
    with pytest.raises(InvalidInput):
        response_target(Severity.LOW, {Severity.CRITICAL: 8})
    with pytest.raises(InvalidInput):
        response_target(1, DEFAULT_RESPONSE_HOURS)  # type: ignore[arg-type]


_answer_values = st.fixed_dictionaries(
    {},
    optional={q.value: st.sampled_from(list(ANSWER_TYPES[q])) for q in Question},
)


@settings(max_examples=200, deadline=None)
@given(_answer_values)
def test_any_answers_either_decide_or_ask_exactly_one_missing_question(values: dict[str, Any]) -> None:
    """Whatever subset was answered, the flow never both asks and decides, and never asks twice."""
    answers = TriageAnswers(**values)
    question = next_question(answers)
    if question is None:
        assert triage(answers) in Severity
    else:
        assert answers.get(question) is None
        with pytest.raises(IncompleteTriage):
            triage(answers)
