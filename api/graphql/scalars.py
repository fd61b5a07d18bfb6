"""The domain's enums, registered with GraphQL under the contract's names.

Registering decorates the domain classes in place, so resolvers pass domain values straight
through; ``events/`` itself never imports strawberry.
"""

from __future__ import annotations

from enum import Enum

import strawberry

from events.reducer import ReportStatus
from events.values import Precision
from events.vocabulary import Rank, Reliability, SourceKind, Stance

for _enum in (Precision, Stance, Reliability, Rank, SourceKind, ReportStatus):
    strawberry.enum(_enum)


@strawberry.enum
class Axis(Enum):
    RECORDED = "RECORDED"
    REPORTED = "REPORTED"


__all__ = ["Axis", "Precision", "Rank", "Reliability", "ReportStatus", "SourceKind", "Stance"]
