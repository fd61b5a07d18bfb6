"""``chronicle verify``: the log checked against its Merkle tree and its signed checkpoints.

The hash chain (events/chain.py) catches an edited row, but neither a log cut short at its
tail nor a chain recomputed wholesale: a checkpoint kept outside the database catches both.
One pass over the log (api/services/log_recompute.py) gives the chain's verdict, the kept
tree's, and the tree's root at the size of every checkpoint to check: those Chronicle
stored (``log_checkpoints``) with this deployment's key, and one an auditor kept
(``verify --against``), whose signature and origin are checked before the pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from api.services.log_recompute import Progress, Recomputed, b64, recompute
from api.services.signed_notes import NoteError, Verifier, open_checkpoint
from api.services.transparency import Transparency
from events.checkpoints import Checkpoint, CheckpointError
from events.postgres.log_checkpoints import StoredCheckpoint


def _quiet(done: int) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Finding:
    ok: bool
    message: str


class Refused(ValueError):
    """A checkpoint that cannot be checked against: its note, its key or its log is wrong."""


def open_against(note: str, verifier: Verifier, origin: str) -> Checkpoint:
    """The checkpoint in a saved note, once ``verifier``'s signature on it verifies and it
    names this log (Refused otherwise, with a one-line reason)."""
    key = f"{verifier.name} ({verifier.key_id:08x})"
    try:
        checkpoint = open_checkpoint(note, [verifier])
    except NoteError as e:
        raise Refused(f"not a checkpoint signed by {key}: {e}") from None
    except CheckpointError as e:
        raise Refused(f"the note signed by {key} is not a checkpoint: {e}") from None
    if checkpoint.origin != origin:
        raise Refused(f"the checkpoint is of the log {checkpoint.origin}, but this log is "
                      f"{origin}")
    return checkpoint


def chain_finding(log: Recomputed) -> Finding:
    if log.chain.ok:
        return Finding(True, f"the hash chain is intact: {log.chain.checked} events")
    return Finding(False, f"the log is broken at position {log.chain.first_bad_position} "
                          f"({log.chain.checked} events checked)")


def tree_finding(log: Recomputed) -> Finding:
    if log.tree_problem is not None:
        return Finding(False, log.tree_problem)
    if log.kept_size < log.size:
        return Finding(True, f"the stored Merkle tree matches the events it holds "
                             f"({log.kept_size} of {log.size}; the rest are added when "
                             f"Chronicle starts, or by chronicle checkpoint)")
    return Finding(True, f"the stored Merkle tree matches the events ({log.size})")


def against_finding(checkpoint: Checkpoint, log: Recomputed) -> Finding:
    problem = log.mismatch(checkpoint.size, checkpoint.root)
    if problem is not None:
        return Finding(False, problem)
    return Finding(True, f"the log extends the checkpoint of {checkpoint.size} events "
                         f"(root {b64(checkpoint.root)}); it now holds {log.size}")


@dataclass(frozen=True, slots=True)
class StoredCheckpoints:
    """The stored checkpoints sorted for checking: those whose note this key's signature
    opens (and agrees with its row), those it does not, and those of other keys."""

    opened: list[StoredCheckpoint]
    problems: list[str]
    others: list[StoredCheckpoint]

    @classmethod
    def classify(cls, stored: Sequence[StoredCheckpoint], verifier: Verifier) -> StoredCheckpoints:
        opened, problems, others = [], [], []
        for checkpoint in stored:
            if (checkpoint.key_name, checkpoint.key_id) != (verifier.name, verifier.key_id):
                others.append(checkpoint)
                continue
            try:
                signed = open_checkpoint(checkpoint.note, [verifier])
            except (NoteError, CheckpointError) as e:
                problems.append(f"{_named(checkpoint)}: {e}")
                continue
            if (signed.size, signed.root) != (checkpoint.tree_size, checkpoint.root):
                problems.append(f"{_named(checkpoint)}: its note is of {signed.size} events "
                                f"(root {b64(signed.root)}), its row says {checkpoint.tree_size}"
                                f" (root {b64(checkpoint.root)})")
                continue
            opened.append(checkpoint)
        return cls(opened, problems, others)

    def sizes(self) -> set[int]:
        return {checkpoint.tree_size for checkpoint in self.opened}

    def findings(self, log: Recomputed, verifier: Verifier) -> list[Finding]:
        found = [Finding(False, problem) for problem in self.problems]
        for checkpoint in self.opened:
            problem = log.mismatch(checkpoint.tree_size, checkpoint.root)
            if problem is not None:
                found.append(Finding(False, f"{_named(checkpoint)}: {problem}"))
        if not found:
            count = len(self.opened)
            found.append(Finding(True, f"the {_checkpoints(count)} signed by {verifier.name} "
                                       f"{'matches' if count == 1 else 'match'} the log"
                                 if count else
                                 f"no stored checkpoint is signed by {verifier.name}"))
        if self.others:
            keys = sorted({f"{c.key_name} ({c.key_id:08x})" for c in self.others})
            count = len(self.others)
            found.append(Finding(True, f"{_checkpoints(count)} signed by other keys "
                                       f"{'was' if count == 1 else 'were'} not checked: "
                                       f"{', '.join(keys)}"))
        return found


def _checkpoints(count: int) -> str:
    return f"{count} stored checkpoint{'' if count == 1 else 's'}"


def _named(checkpoint: StoredCheckpoint) -> str:
    return (f"stored checkpoint {checkpoint.id} of {checkpoint.tree_size} events (signed "
            f"{checkpoint.signed_at:%Y-%m-%d %H:%M:%S%z})")


@dataclass(frozen=True, slots=True)
class Audit:
    log: Recomputed
    findings: list[Finding]  # the chain, the kept tree, the stored checkpoints, the one kept

    @property
    def ok(self) -> bool:
        return all(finding.ok for finding in self.findings)


async def audit_log(transparency: Transparency, against: Checkpoint | None = None,
                    on_progress: Progress = _quiet) -> Audit:
    """The chain, the kept tree, every stored checkpoint this deployment's key signed and
    ``against`` (one an auditor kept, already opened), checked in one pass over the log."""
    verifier = transparency.signer.verifier()
    stored = StoredCheckpoints.classify(await transparency.checkpoints.every(), verifier)
    sizes = stored.sizes() | ({against.size} if against is not None else set())
    log = await recompute(transparency.store, sizes, on_progress)
    findings = [chain_finding(log), tree_finding(log), *stored.findings(log, verifier)]
    if against is not None:
        findings.append(against_finding(against, log))
    return Audit(log, findings)
