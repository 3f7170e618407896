"""Shared vocabulary of the policy core: enums and small value types used by every layer."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Severity(IntEnum):
    """P-SLA-1..4: 1 is critical, 4 is a question or suggestion."""

    CRITICAL = 1
    HIGH = 2
    MEDIUM = 3
    LOW = 4


class TicketStatus(StrEnum):
    """States of the ticket lifecycle (see bot.domain.lifecycle for the transition table)."""

    NEW = "new"
    ASSIGNED = "assigned"
    WAITING_CLIENT = "waiting_client"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Tier(StrEnum):
    """P-POL-1: contract tiers ("tipos de póliza")."""

    PER_EVENT = "por_evento"
    BASIC = "basica"
    BUSINESS = "empresarial"
    BUSINESS_PLUS = "empresarial_plus"
    CORPORATE = "corporativo"


class Role(StrEnum):
    """Slack-side roles (P-ESC-2): level 1 agent, level 2 quality manager, level 3 operations manager."""

    AGENT = "agent"
    QUALITY_MANAGER = "quality_manager"
    OPERATIONS_MANAGER = "operations_manager"


class EscalationStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"


class ServiceArea(StrEnum):
    """P-SCOPE-1: the service areas the company supports."""

    SOFTWARE = "software"
    CABLING = "cabling"
    PERIMETER_SECURITY = "perimeter_security"
    SWITCHING = "switching"
    ROUTING = "routing"
    WIRELESS = "wireless"
    FIREWALL = "firewall"
    MAINTENANCE = "maintenance"


class ExcludedTopic(StrEnum):
    """P-SCOPE-2: topics support does not cover."""

    DEVELOPMENT = "development"
    TRAINING = "training"
    THIRD_PARTY = "third_party"
    BUSINESS_CONSULTING = "business_consulting"


class HoursKind(StrEnum):
    """How support hours were worked (P-POL-6 counts in-office and on-site separately)."""

    REMOTE = "remote"
    IN_OFFICE = "in_office"
    ON_SITE = "on_site"
