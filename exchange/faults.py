"""Named crash points: where the reliability tests kill a run to prove nothing is lost or doubled.

A crash point does nothing unless SDX_CRASH_AT names it, so production runs never stop here. The tests set
the variable in a subprocess and expect that process to die by SIGKILL at exactly that point.
`SDX_CRASH_AT=name@N` dies at the N-th pass through the point instead of the first (a later batch).
"""

from __future__ import annotations

import collections
import os
import signal

CRASH_ENV = "SDX_CRASH_AT"

# The steps before delivery (exchange/steps/): each writes its own staging files, and curate loads the
# curated database, quarantine, snapshot hashes and watermark in one transaction; a kill anywhere here is
# repaired by simply running again.
EXTRACT_MID_SOURCE = "extract_mid_source"  # a batch staged, the source not finished
EXTRACT_AFTER_STAGING = "after_extract"  # staging files in place, the extract summary not yet written
AFTER_STANDARDIZE = "after_standardize"  # valid/findings and summary written, curate not begun
CURATE_BEFORE_COMMIT = "curate_before_commit"  # everything written inside curate's transaction
CURATE_AFTER_COMMIT = "curate_after_commit"  # curated and committed, the ledger not yet touched
STEP_POINTS = (
    EXTRACT_MID_SOURCE,
    EXTRACT_AFTER_STAGING,
    AFTER_STANDARDIZE,
    CURATE_BEFORE_COMMIT,
    CURATE_AFTER_COMMIT,
)

# Delivery to the exchange database, batch by batch (exchange/steps/deliver_exchange_db.py):
# the ledger records the versions it is about to send, the exchange database writes the batch in one
# transaction, the ledger confirms them. A kill at any of these leaves a state the next run repairs.
DELIVER_AFTER_LEDGER_INTENT = "deliver_after_ledger_intent"
DELIVER_MID_BATCH = "deliver_mid_batch"  # rows written, push log and commit not yet
DELIVER_AFTER_EXCHANGE_COMMIT = "deliver_after_exchange_commit"
DELIVER_AFTER_LEDGER_COMMIT = "deliver_after_ledger_commit"
DELIVERY_POINTS = (
    DELIVER_AFTER_LEDGER_INTENT,
    DELIVER_MID_BATCH,
    DELIVER_AFTER_EXCHANGE_COMMIT,
    DELIVER_AFTER_LEDGER_COMMIT,
)

# Delivery to a gateway receiver, batch by batch (exchange/steps/deliver_gateway.py): the ledger records
# the versions with the batch's request id, the receiver takes the batch, the ledger confirms its answer.
GATEWAY_AFTER_LEDGER_INTENT = "gateway_after_ledger_intent"
GATEWAY_AFTER_PUSH = "gateway_after_push"  # the receiver holds the batch, the ledger does not know yet
GATEWAY_AFTER_LEDGER_COMMIT = "gateway_after_ledger_commit"
GATEWAY_POINTS = (GATEWAY_AFTER_LEDGER_INTENT, GATEWAY_AFTER_PUSH, GATEWAY_AFTER_LEDGER_COMMIT)

_passes: collections.Counter[str] = collections.Counter()


def crash_point(name: str) -> None:
    """Die at once, as a killed process would, when SDX_CRASH_AT names this point (and pass, if given)."""
    wanted = os.environ.get(CRASH_ENV)
    if not wanted:
        return
    point, _, nth = wanted.partition("@")
    if point != name:
        return
    _passes[name] += 1
    if _passes[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
