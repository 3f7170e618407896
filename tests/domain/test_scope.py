"""Scope (P-SCOPE-1/2): covered service areas and the alternative offered for each excluded topic."""

from __future__ import annotations

from typing import Any

import pytest

from bot.domain.errors import InvalidInput
from bot.domain.scope import DEFAULT_EXCLUSIONS, Alternative, check_scope
from bot.domain.types import ExcludedTopic, ServiceArea


@pytest.mark.parametrize("area", list(ServiceArea), ids=lambda a: f"P-SCOPE-1-{a.value}")
def test_p_scope_1_every_service_area_is_covered(area: ServiceArea) -> None:
    decision = check_scope(area)
    assert decision.covered is True
    assert decision.alternative is None
    assert (decision.topic, decision.rule) == (area, "P-SCOPE-1")


@pytest.mark.parametrize(
    ("topic", "alternative"),
    [
        pytest.param(ExcludedTopic.DEVELOPMENT, Alternative.SOFTWARE_FACTORY, id="P-SCOPE-2-development"),
        pytest.param(ExcludedTopic.TRAINING, Alternative.NOT_OFFERED, id="P-SCOPE-2-training"),
        pytest.param(ExcludedTopic.THIRD_PARTY, Alternative.THIRD_PARTY_VENDOR, id="P-SCOPE-2-third-party"),
        pytest.param(ExcludedTopic.BUSINESS_CONSULTING, Alternative.CONSULTING, id="P-SCOPE-2-consulting"),
    ],
)
def test_p_scope_2_excluded_topics_name_their_alternative(topic: ExcludedTopic, alternative: Alternative) -> None:
    decision = check_scope(topic)
    assert decision.covered is False
    assert decision.alternative is alternative
    assert decision.rule == "P-SCOPE-2"


def test_p_scope_2_every_excluded_topic_has_an_alternative() -> None:
    assert set(DEFAULT_EXCLUSIONS) == set(ExcludedTopic)


def test_area_left_out_by_configuration_goes_to_the_vendor() -> None:
    """P-SCOPE-1: an area the company does not provide is someone else's product."""
    covered = frozenset(ServiceArea) - {ServiceArea.WIRELESS}
    decision = check_scope(ServiceArea.WIRELESS, covered=covered)
    assert decision.covered is False
    assert decision.alternative is Alternative.THIRD_PARTY_VENDOR
    assert check_scope(ServiceArea.FIREWALL, covered=covered).covered is True


def test_exclusion_table_without_the_topic_is_refused() -> None:
    with pytest.raises(InvalidInput):
        check_scope(ExcludedTopic.TRAINING, exclusions={ExcludedTopic.DEVELOPMENT: Alternative.SOFTWARE_FACTORY})


@pytest.mark.parametrize("bad", ["software", "development", None, 3])
def test_raw_values_are_refused(bad: Any) -> None:
    """StrEnum members equal their strings: a raw "software" must not pass as covered."""
    with pytest.raises(InvalidInput):
        check_scope(bad)
