"""The domain's enums, registered with GraphQL under the contract's names.

Registering decorates the domain classes in place, so resolvers pass domain values straight
through; ``events/`` itself never imports strawberry.
"""

from __future__ import annotations

import strawberry

from events.as_of import Axis
from events.policy import FactStatus, ReportRole
from events.reducer import ReportStatus
from events.values import Precision
from events.vocabulary import Rank, Reliability, SourceKind, Stance

for _enum in (Precision, Stance, Reliability, Rank, SourceKind, ReportStatus, FactStatus,
              ReportRole, Axis):
    strawberry.enum(_enum)

__all__ = ["Axis", "FactStatus", "Precision", "Rank", "Reliability", "ReportRole",
           "ReportStatus", "SourceKind", "Stance"]
