"""Global ids (Relay's ``Node``), opaque and unique across the whole API.

The contract keeps each type's own ``id`` (an entry's id is unique only within its
timeline), so the global id is the field ``nodeId``, and ``Query.node(id:)`` refetches any
object by it: configure Relay with ``nodeInterfaceIdField: "nodeId"``, Apollo Client with
``dataIdFromObject: (o) => o.nodeId``. An object read as of a past moment gets a different
global id from the same object now: a normalized client cache never mixes the past with the
present, and ``node`` gives back the object as it stood then.
"""

from __future__ import annotations

import base64
import binascii
import json
from abc import abstractmethod
from dataclasses import dataclass
from datetime import datetime

import strawberry

from api.graphql.cursors import is_position
from events.as_of import Axis, Moment
from events.errors import BadInput

NOW = Moment()


@dataclass(frozen=True, slots=True)
class NodeRef:
    kind: str
    key: tuple[str, ...]
    slug: str | None = None  # the timeline it was read through, for the moment
    moment: Moment = NOW


def node_id(ref: NodeRef) -> strawberry.ID:
    when = None if ref.moment.as_of is None else [ref.moment.axis.value,
                                                   ref.moment.as_of.isoformat()]
    payload = json.dumps([ref.kind, list(ref.key), ref.slug, when], separators=(",", ":"))
    return strawberry.ID(base64.urlsafe_b64encode(payload.encode()).decode().rstrip("="))


# What identifies each kind of node: its own id, or its entry's id and its own.
KEY_LENGTHS = {"Timeline": 1, "Entry": 1, "Source": 1, "Event": 1, "Report": 2, "Fact": 2}


def parse_node_id(value: str) -> NodeRef:
    """The reference a ``nodeId`` stands for; BAD_INPUT for anything the API never gave out
    (whatever its shape: it must not reach a query)."""
    try:
        padded = value + "=" * (-len(value) % 4)
        kind, key, slug, when = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not (isinstance(kind, str) and isinstance(key, list)
                and len(key) == KEY_LENGTHS.get(kind)
                and all(isinstance(k, str) for k in key)
                and (slug is None or isinstance(slug, str))
                and (when is None or (isinstance(when, list) and len(when) == 2
                                      and all(isinstance(w, str) for w in when)))):
            raise ValueError(value)
        if kind == "Event" and not is_position(key[0]):
            raise ValueError(value)
        moment = Moment() if when is None else Moment(datetime.fromisoformat(when[1]),
                                                      Axis(when[0]))
        return NodeRef(kind, tuple(key), slug, moment)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as e:
        raise BadInput("id is not a node id this API gave out", field="id") from e


@strawberry.interface(description="Anything refetchable by a global id: `Query.node(id)`.")
class Node:
    @strawberry.field(description="Unique across the API (and across `asOf` moments); "
                      "`id`, where a type has one, stays its own identifier.")
    @abstractmethod
    def node_id(self) -> strawberry.ID:
        """Each implementing type makes it from what it is and the moment it was read at."""
