"""Who may do what in legal: the scope rules over the caller a token names."""

from __future__ import annotations

from legal.rules.access import handles_case, in_region, may_file_walk_in, sees_lawyer
from servicekit.identity import Caller, Role

LAWYER = Caller("gz-lw-0002", frozenset({Role.LAWYER}))
BAIYUN = Caller("by-01", frozenset({Role.STAFF}), union="440111")
TIANHE = Caller("th-01", frozenset({Role.STAFF}), union="440106")
GUANGZHOU = Caller("gz-01", frozenset({Role.STAFF}), union="440100")
PROVINCE = Caller("gd-01", frozenset({Role.STAFF}), union="440000")
SHENZHEN = Caller("sz-01", frozenset({Role.STAFF}), union="440300")
VISITOR = Caller("gz-lw-0002", frozenset({Role.VISITOR}))


def test_a_case_is_handled_by_its_lawyer_and_the_unions_covering_its_district() -> None:
    assert handles_case(LAWYER, "440111", "gz-lw-0002")
    assert not handles_case(LAWYER, "440111", "gz-lw-0003")  # another lawyer's case
    assert not handles_case(LAWYER, "440111", None)  # waiting for a lawyer
    assert not handles_case(VISITOR, "440111", "gz-lw-0002")  # the same id, not a lawyer
    for staff in (BAIYUN, GUANGZHOU, PROVINCE):
        assert handles_case(staff, "440111", None)
    for staff in (TIANHE, SHENZHEN):
        assert not handles_case(staff, "440111", "gz-lw-0002")


def test_a_walk_in_is_filed_at_ones_own_station_or_within_ones_union() -> None:
    def files(caller: Caller, dispute: str, lawyer_station: str | None = None) -> bool:
        return may_file_walk_in(
            caller,
            station_id="gz-ls-001",
            station_district="440106",
            dispute_district=dispute,
            lawyer_station=lawyer_station,
        )

    assert files(LAWYER, "440111", lawyer_station="gz-ls-001")
    assert not files(LAWYER, "440111", lawyer_station="gz-ls-002")  # another station's
    assert not files(LAWYER, "440106")  # not in the registry
    assert not files(VISITOR, "440106", lawyer_station="gz-ls-001")
    assert files(TIANHE, "440111")  # the station's district
    assert files(BAIYUN, "440111")  # the dispute's district
    assert files(GUANGZHOU, "440111")
    assert files(PROVINCE, "440111")
    assert not files(SHENZHEN, "440111")
    assert not files(Caller("x", frozenset({Role.STAFF})), "440111")  # staff of no union


def test_a_lawyer_is_seen_by_themself_and_the_unions_of_their_station() -> None:
    assert sees_lawyer(LAWYER, "gz-lw-0002", "440111")
    assert not sees_lawyer(LAWYER, "gz-lw-0003", "440111")
    assert sees_lawyer(BAIYUN, "gz-lw-0003", "440111")
    assert sees_lawyer(GUANGZHOU, "gz-lw-0003", "440111")
    assert not sees_lawyer(TIANHE, "gz-lw-0003", "440111")


def test_a_region_prefix_holds_its_districts() -> None:
    assert in_region("44", "440111")
    assert in_region("4401", "440111")
    assert in_region("440111", "440111")
    assert not in_region("440106", "440111")
    assert not in_region("4403", "440111")
