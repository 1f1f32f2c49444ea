"""The partner directory: read back as written, and refused when it is not a directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from gonghui_contracts.access import Partner
from gonghui_contracts.values import PartnerKind
from servicekit.partners import PartnerDirectoryError, read_partners, write_partners


def test_a_directory_reads_back_as_written(tmp_path: Path) -> None:
    path = tmp_path / "partners.json"
    partners = [
        Partner("sz-h-001", PartnerKind.HOSPITAL),
        Partner("gz-12351", PartnerKind.HOTLINE_12351),
    ]
    write_partners(path, partners)
    assert read_partners(path) == partners
    assert read_partners(None) == []


@pytest.mark.parametrize(
    "text",
    [
        '[{"partner_id": "sz-h-001", "kind": "hospital"}, '
        '{"partner_id": "sz-h-001", "kind": "court"}]',
        '[{"partner_id": "sz-h-001", "kind": "bank"}]',
        '[{"partner_id": "SZ.H.001", "kind": "hospital"}]',
        '[{"kind": "hospital"}]',
        '{"partner_id": "sz-h-001"}',
        "not json",
    ],
)
def test_a_directory_that_is_not_one_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "partners.json"
    path.write_text(text)
    with pytest.raises(PartnerDirectoryError, match="partner directory"):
        read_partners(path)
