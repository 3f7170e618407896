"""The domain's exception hierarchy and the public surface of the policy modules (pinned on purpose)."""

from __future__ import annotations

import inspect
from types import ModuleType

import pytest

from bot.domain import contracts, entitlement, errors, lifecycle, scope, severity

PUBLIC_SURFACE: dict[ModuleType, set[str]] = {
    errors: {
        "AlreadyClaimed",
        "DomainError",
        "EscalationAlreadyPending",
        "EscalationError",
        "EscalationLimitReached",
        "EscalationNotAllowed",
        "IllegalTransition",
        "IncompleteTriage",
        "InvalidAnswer",
        "InvalidHours",
        "InvalidInput",
        "NoPendingEscalation",
        "NotAuthorized",
        "RemindersPending",
        "StaleVersion",
    },
    severity: {
        "ANSWER_TYPES",
        "Answer",
        "Ask",
        "BusinessSystem",
        "DEFAULT_FLOW",
        "DEFAULT_RESPONSE_HOURS",
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
    },
    contracts: {
        "Certificate",
        "Contract",
        "ContractStatus",
        "DEFAULT_CONTRACT_YEARS",
        "DEFAULT_LOW_HOURS_PERCENT",
        "DEFAULT_OFFICE_HOURS",
        "DEFAULT_ONSITE_HOURS",
        "DEFAULT_TIER_HOURS",
        "DEFAULT_TIER_RULES",
        "Deduction",
        "HOURS_QUANTUM",
        "Product",
        "TierRules",
        "TierTerms",
        "Validity",
        "certificate",
        "deduct",
        "default_end",
        "purchase_order_key",
        "to_hours",
    },
    entitlement: {
        "Basis",
        "Entitlement",
        "Outcome",
        "Referral",
        "RefusalReason",
        "decide_entitlement",
        "warranty_candidates",
    },
    scope: {"Alternative", "DEFAULT_COVERED", "DEFAULT_EXCLUSIONS", "ScopeDecision", "check_scope"},
    lifecycle: {
        "Action",
        "DEFAULT_APPROVERS",
        "DEFAULT_INFO_REMINDERS",
        "ESCALATABLE",
        "MAX_ESCALATION_LEVEL",
        "MIN_ESCALATION_LEVEL",
        "PendingEscalation",
        "TRANSITIONS",
        "TicketState",
        "allowed_actions",
        "apply",
        "approver_role",
        "change_severity",
        "decide_escalation",
        "request_escalation",
    },
}


@pytest.mark.parametrize("module", list(PUBLIC_SURFACE), ids=lambda m: m.__name__)
def test_public_surface_is_pinned(module: ModuleType) -> None:
    """Other layers build on these names: a change here must be deliberate."""
    assert set(module.__all__) == PUBLIC_SURFACE[module]
    for name in module.__all__:
        assert hasattr(module, name), name


ERROR_CLASSES = [obj for _, obj in inspect.getmembers(errors, inspect.isclass) if obj.__module__ == errors.__name__]


@pytest.mark.parametrize("error", ERROR_CLASSES, ids=lambda e: e.__name__)
def test_every_error_is_a_domain_error_with_a_one_line_docstring(error: type[Exception]) -> None:
    assert issubclass(error, errors.DomainError)
    doc = error.__doc__ or ""
    assert doc.strip() and "\n" not in doc.strip()


@pytest.mark.parametrize("error", [errors.InvalidHours, errors.InvalidAnswer, errors.IncompleteTriage])
def test_bad_input_errors_are_value_errors(error: type[Exception]) -> None:
    """Callers that only know the standard library can still catch them as ValueError."""
    assert issubclass(error, ValueError)


def test_refusals_of_actions_are_not_value_errors() -> None:
    """A refused action is not a programming mistake: the adapter answers the person, it does not crash."""
    for error in (errors.IllegalTransition, errors.StaleVersion, errors.NotAuthorized, errors.EscalationError):
        assert not issubclass(error, ValueError)
    assert issubclass(errors.AlreadyClaimed, errors.IllegalTransition)
    assert issubclass(errors.RemindersPending, errors.IllegalTransition)
