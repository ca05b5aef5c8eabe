#!/usr/bin/env bash
# Every check the project has: lint, format, types, then the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 ANONYMIZED_TELEMETRY=False
echo "check: ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "check: mypy"
.venv/bin/mypy
echo "check: pytest"
.venv/bin/pytest -ra "$@"
