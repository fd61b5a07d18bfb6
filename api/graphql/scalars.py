"""Enums shared with the domain, exposed under the contract's names."""

from __future__ import annotations

from enum import Enum

import strawberry

from events.reducer import ReportStatus as DomainReportStatus
from events.values import Precision as DomainPrecision
from events.vocabulary import Rank as DomainRank
from events.vocabulary import Reliability as DomainReliability
from events.vocabulary import SourceKind as DomainSourceKind
from events.vocabulary import Stance as DomainStance

Precision = strawberry.enum(DomainPrecision, name="Precision")
Stance = strawberry.enum(DomainStance, name="Stance")
Reliability = strawberry.enum(DomainReliability, name="Reliability")
Rank = strawberry.enum(DomainRank, name="Rank")
SourceKind = strawberry.enum(DomainSourceKind, name="SourceKind")
ReportStatus = strawberry.enum(DomainReportStatus, name="ReportStatus")


@strawberry.enum
class Axis(Enum):
    RECORDED = "RECORDED"
    REPORTED = "REPORTED"
