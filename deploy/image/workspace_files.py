"""Pick out of the build context the files that `uv sync` of the workspace reads.

    python3 workspace_files.py CONTEXT PROJECT MANIFESTS

MANIFESTS gets the root pyproject.toml, uv.lock and each workspace member's pyproject.toml
(enough for `uv sync --frozen --no-install-workspace`: the dependencies); PROJECT gets those
and each member's whole directory but its tests/ (enough to build and install the members).
The members are the root's [tool.uv.workspace] members (globs) less its excludes, so a new
service is picked up without touching the Dockerfile, and since the two trees are the same
whenever those files are, the image build's layers stay cached across other changes (docs,
manifests, tests). Runs on the base image's own Python (3.11: tomllib), standard library only.
"""

from __future__ import annotations

import shutil
import sys
import tomllib
from pathlib import Path

ROOT_FILES = ("pyproject.toml", "uv.lock")
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".*cache", "*.egg-info")


def members(root: Path) -> list[Path]:
    workspace = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]
    found = {p for pattern in workspace.get("members", []) for p in root.glob(pattern)}
    excluded = {p for pattern in workspace.get("exclude", []) for p in root.glob(pattern)}
    return sorted(p for p in found - excluded if (p / "pyproject.toml").is_file())


def main(context: Path, project: Path, manifests: Path) -> None:
    for out in (project, manifests):
        out.mkdir(parents=True, exist_ok=True)
        for name in ROOT_FILES:
            shutil.copy2(context / name, out / name)
    for member in members(context):
        relative = member.relative_to(context)
        (manifests / relative).mkdir(parents=True, exist_ok=True)
        shutil.copy2(member / "pyproject.toml", manifests / relative / "pyproject.toml")

        def ignore(directory: str, names: list[str], top: Path = member) -> set[str]:
            skipped = set(SKIPPED(directory, names))
            if Path(directory) == top:  # the member's own tests are not part of its wheel
                skipped |= {"tests"} & set(names)
            return skipped

        shutil.copytree(member, project / relative, ignore=ignore, dirs_exist_ok=True)
        print(f"workspace member: {relative}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*(Path(arg) for arg in sys.argv[1:]))
