"""legal's own Prometheus metrics. Labels are channels, stages and kinds, never personal data."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

CASES_OPENED = Counter("legal_cases_opened_total", "Dispute cases opened", ["channel"])
FILINGS_MERGED = Counter(
    "legal_filings_merged_total", "Filings of a dispute that already had an open case", ["channel"]
)
ACCEPTED = Counter("legal_cases_accepted_total", "Cases a lawyer accepted")
OFFERS_PASSED_ON = Counter(
    "legal_offers_passed_on_total", "Offers declined or lapsed: another lawyer asked", ["why"]
)
UNASSIGNED = Counter("legal_cases_unassigned_total", "Cases no lawyer could be asked to take")
WAITING = Gauge("legal_cases_waiting_for_lawyer", "Open cases without a lawyer (at the last sweep)")
STAGE_MOVES = Counter(
    "legal_stage_moves_total", "Moves along the chain", ["from_stage", "to_stage"]
)
CASES_CLOSED = Counter("legal_cases_closed_total", "Cases closed", ["stage", "outcome"])
ESCALATIONS = Counter(
    "legal_escalations_total", "Deadlines missed, escalated to the district union", ["deadline"]
)
WARNINGS = Counter("legal_early_warnings_total", "Early warnings raised", ["kind"])
LETTERS = Counter("legal_supervision_letters_total", "Supervision letters issued", ["letter"])
