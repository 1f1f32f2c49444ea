"""The partner directory: each partner's id and kind, as a JSON list kept by the operator
(`servicekit partner add --partners FILE` adds to it). The same file makes the partners' Kafka
users and ACLs, and tells a service which partners' topics to read (PARTNERS_FILE)."""

from __future__ import annotations

import json
from pathlib import Path

from gonghui_contracts.access import Partner
from gonghui_contracts.values import PartnerKind


class PartnerDirectoryError(ValueError):
    pass


def read_partners(path: Path | None) -> list[Partner]:
    """The partners of the directory at `path` (none without a path); refuses an entry that
    is not a partner, or an id listed twice."""
    if path is None:
        return []
    try:
        entries = json.loads(path.read_text("utf-8"))
        partners = [Partner(entry["partner_id"], PartnerKind(entry["kind"])) for entry in entries]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise PartnerDirectoryError(f"partner directory {path}: {error}") from None
    ids = [partner.partner_id for partner in partners]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise PartnerDirectoryError(f"partner directory {path}: listed twice: {', '.join(twice)}")
    return partners


def write_partners(path: Path, partners: list[Partner]) -> None:
    entries = [{"partner_id": p.partner_id, "kind": p.kind.value} for p in partners]
    path.write_text(json.dumps(entries, indent=1, ensure_ascii=False) + "\n", "utf-8")
