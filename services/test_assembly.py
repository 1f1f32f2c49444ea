"""Each service reads exactly the topics the registry names it a reader of (its Kafka ACLs are
made from the registry, so a subscription the registry does not know would be refused)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from gonghui_contracts.access import placed
from gonghui_contracts.topics import TOPICS
from gonghui_contracts.values import Service
from servicekit.partners import read_partners

DIRECTORY = Path(__file__).resolve().parents[1] / "deploy/local/partners.json"


@pytest.mark.parametrize("service", list(Service))
def test_a_service_subscribes_to_the_topics_it_reads_in_the_registry(
    service: Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a service without DATABASE_URL makes its SQLite file here
    monkeypatch.setenv("PII_ALLOW_DEVELOPMENT_KEY", "true")
    monkeypatch.setenv("AUTH_ALLOW_NO_KEYS", "true")
    monkeypatch.setenv("PARTNERS_FILE", str(DIRECTORY))
    main = importlib.import_module(f"{service.value}.main")
    app = main.create_app()
    subscribed = set(app.state.runtime.processors)
    partners = read_partners(DIRECTORY)
    # of a partners' intake family, each partner's own topic
    assert subscribed == {
        name for spec in TOPICS if service in spec.readers for name, _ in placed(spec, partners)
    }
