"""The peers of the benchmark suite: what Chronicle's figures are measured against.

``postgraphile/`` (W1), ``eventsourcing_peer.py`` and ``pg_limits.py`` (W2, W3, W5); see
``README.md`` here. The bench scripts import ``peers.pg_limits`` (their own directory is
first on ``sys.path`` when they run).
"""
