"""The dependency rules the architecture rests on, checked in fresh interpreters.

Each check runs in a child process so that modules other tests imported cannot hide a violation.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def modules_after_import(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return {name.split(".")[0] for name in out.split()}


def test_the_answering_core_imports_no_discord_or_http_server() -> None:
    loaded = modules_after_import("bot.answering")
    assert "discord" not in loaded
    assert "aiohttp" not in loaded


def imported_top_packages(package: str) -> dict[str, set[str]]:
    """Each module of ``package`` -> the top-level names it imports (absolute imports only)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("index", {"models", "bot"}), ("models", {"index", "bot"})],
)
def test_index_and_models_know_nothing_of_each_other_or_the_bot(
    package: str, forbidden: set[str]
) -> None:
    offenders = {
        module: sorted(names & forbidden)
        for module, names in imported_top_packages(package).items()
        if names & forbidden
    }
    assert offenders == {}


def test_the_answering_core_does_not_import_the_app_layers() -> None:
    app_modules = {
        "bot.discord_app",
        "bot.cli",
        "bot.chat",
        "bot.answer_queue",
        "bot.health",
        "bot.wiring",
        "bot.settings",
    }
    offenders = {}
    for path in sorted((ROOT / "bot" / "answering").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and any(node.module == m or node.module.startswith(m + ".") for m in app_modules)
            ):
                offenders[path.name] = node.module
    assert offenders == {}
