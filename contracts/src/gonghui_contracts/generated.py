"""Files generated from the contracts (schemas, Kubernetes resources): written, or checked to be
what would be written, so that a test or CI fails when someone forgot to regenerate them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def write_or_check(files: Mapping[Path, str], *, check: bool) -> list[Path]:
    """Write each file; with `check`, write nothing and return those that differ or are missing."""
    stale = []
    for path, text in files.items():
        if check:
            if not path.exists() or path.read_text("utf-8") != text:
                stale.append(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, "utf-8")
    return stale
