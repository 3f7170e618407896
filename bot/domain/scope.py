"""Scope (P-SCOPE-1/2): which topics support covers, and the alternative offered for the rest.

Alternatives are codes; the Spanish and English sentences naming them live in the text catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from bot.domain.errors import InvalidInput
from bot.domain.types import ExcludedTopic, ServiceArea

__all__ = [
    "DEFAULT_COVERED",
    "DEFAULT_EXCLUSIONS",
    "Alternative",
    "ScopeDecision",
    "check_scope",
]


class Alternative(StrEnum):
    """What the bot offers instead of support for an excluded topic (P-SCOPE-2)."""

    SOFTWARE_FACTORY = "software_factory"  # "Fábrica de Software", for development
    CONSULTING = "consulting"  # "Consultoría" in IT, infrastructure and processes
    THIRD_PARTY_VENDOR = "third_party_vendor"  # the maker or provider: OS vendor, ISP, phone carrier
    # Training: the policy names no service for it, so the bot says it is not offered and leaves the
    # door to sales open rather than inventing a course.
    NOT_OFFERED = "not_offered"


DEFAULT_EXCLUSIONS: Mapping[ExcludedTopic, Alternative] = MappingProxyType(
    {
        ExcludedTopic.DEVELOPMENT: Alternative.SOFTWARE_FACTORY,
        ExcludedTopic.TRAINING: Alternative.NOT_OFFERED,
        ExcludedTopic.THIRD_PARTY: Alternative.THIRD_PARTY_VENDOR,
        ExcludedTopic.BUSINESS_CONSULTING: Alternative.CONSULTING,
    }
)

# P-SCOPE-1: every service area the company provides is covered.
DEFAULT_COVERED: frozenset[ServiceArea] = frozenset(ServiceArea)


@dataclass(frozen=True)
class ScopeDecision:
    """Covered (a ticket may follow) or excluded with the alternative to offer (no ticket, P-SCOPE-2)."""

    topic: ServiceArea | ExcludedTopic
    covered: bool
    rule: str
    alternative: Alternative | None = None


def check_scope(
    topic: ServiceArea | ExcludedTopic,
    *,
    covered: frozenset[ServiceArea] = DEFAULT_COVERED,
    exclusions: Mapping[ExcludedTopic, Alternative] = DEFAULT_EXCLUSIONS,
) -> ScopeDecision:
    """Whether `topic` is covered (P-SCOPE-1) or excluded with its alternative (P-SCOPE-2).

    A service area the configuration leaves out is treated like a third-party topic: the company did
    not provide it, so the client is sent to whoever did.
    """
    # Both enums are str subclasses: a bare string would compare equal to a member, so refuse it.
    if isinstance(topic, ServiceArea):
        if topic in covered:
            return ScopeDecision(topic, covered=True, rule="P-SCOPE-1")
        return ScopeDecision(topic, covered=False, rule="P-SCOPE-1", alternative=Alternative.THIRD_PARTY_VENDOR)
    if isinstance(topic, ExcludedTopic):
        if topic not in exclusions:
            raise InvalidInput(f"no alternative configured for excluded topic {topic.value}")
        return ScopeDecision(topic, covered=False, rule="P-SCOPE-2", alternative=exclusions[topic])
    raise InvalidInput(f"not a service area or excluded topic: {topic!r}")
