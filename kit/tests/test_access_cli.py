"""`servicekit partner add` refuses an id that could not name a principal and its topics,
before it reaches the broker."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from servicekit.cli import app


@pytest.mark.parametrize(
    "partner_id",
    ["", "SZ-H-016", "sz_h_016", "sz-h-016.dlq", "-sz", "x" * 41, "sz\u202eh", "sz h", "sz\x00"],
)
def test_a_partner_id_outside_the_rule_is_refused(partner_id: str, tmp_path: Path) -> None:
    credentials = tmp_path / "credentials.json"
    result = CliRunner().invoke(
        app,
        [
            "partner",
            "add",
            "--kind",
            "hospital",
            "--credentials",
            str(credentials),
            "--",
            partner_id,
        ],
        env={"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9"},  # nothing listens: never reached
    )
    assert result.exit_code == 2, result.output
    assert "lowercase letters, digits and -" in result.output
    assert not credentials.exists()
