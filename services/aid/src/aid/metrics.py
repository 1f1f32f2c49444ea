"""aid's own Prometheus metrics. Labels are outcomes and kinds, never personal data."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

CASES_OPENED = Counter("aid_injury_cases_opened_total", "Injury cases opened", ["reporter"])
REPORTS_MERGED = Counter(
    "aid_injury_reports_merged_total", "Reports of an injury that already had a case", ["reporter"]
)
VISITS = Counter(
    "aid_injury_visits_total", "Visits recorded, by whether within the SLA", ["within_sla"]
)
HOURS_TO_VISIT = Histogram(
    "aid_injury_hours_to_visit",
    "Hours from the report to the visit",
    buckets=(1, 2, 4, 8, 12, 18, 24, 36, 48, 72, 168),
)
AWAITING_VISIT = Gauge(
    "aid_injury_awaiting_visit",
    "Cases not visited yet, by where they stand against the visit SLA (at the last sweep)",
    ["sla_state"],
)
ESCALATIONS = Counter("aid_injury_escalations_total", "Escalations to the district union", ["kind"])
REFERRALS = Counter("aid_legal_referrals_total", "Injury cases referred to legal aid", ["problem"])
FUND_BALANCE_SHARE = Gauge(
    "aid_fund_balance_share", "A fund's balance as a share of its budget (0–1)", ["fund"]
)
