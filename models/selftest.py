"""Load the model and decode a short prompt in a child process, and say plainly if that fails.

A llama.cpp build that does not suit the CPU dies on its first decode with a signal (SIGSEGV,
SIGILL), taking the process and any message with it. Run in a child, the crash becomes an exit
status the parent can explain: what failed, which CPU features llama.cpp saw, and how to rebuild.

Run: ``python -m models.selftest MODEL.gguf --threads 2`` (``article-bot selftest`` resolves the
configured model); the exit status is 0 only when the model decoded.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

PROMPT = "The article was published on"
GENERATE = 4
TIMEOUT_S = 600.0
# A build for any x86-64 CPU without AVX-512 (AVX2 at most), and the plainest one.
SAFE_REBUILD = (
    'ARTICLE_BOT_LLAMA_CPU_VARIANTS="x64 haswell" bash scripts/setup.sh'
    "   (slower but safest: ARTICLE_BOT_LLAMA_CPU_VARIANTS=x64)"
)

_CHILD = """
import faulthandler, json, sys, time
faulthandler.enable()
import llama_cpp
path, threads, prompt, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
# verbose: llama.cpp's log goes to stderr, which the parent shows only when this fails.
llm = llama_cpp.Llama(model_path=path, n_ctx=256, n_threads=threads, n_threads_batch=threads,
                      verbose=True)
t0 = time.monotonic()
tokens = llm.tokenize(prompt.encode())
llm.eval(tokens)
out = []
for _ in range(n):
    token = llm.sample(temp=0.0)
    out.append(token)
    llm.eval([token])
print(json.dumps({"prompt_tokens": len(tokens), "generated": llm.detokenize(out).decode(
    "utf-8", "replace"), "seconds": time.monotonic() - t0}))
"""

_SYSTEM_INFO = """
import llama_cpp
llama_cpp.llama_backend_init()
print(llama_cpp.llama_print_system_info().decode("utf-8", "replace").strip())
"""


@dataclass(frozen=True)
class SelfTest:
    ok: bool
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def failure(self) -> str:
        """What went wrong, in words: the signal's name or the exit status."""
        if self.returncode < 0:
            try:
                name = signal.Signals(-self.returncode).name
            except ValueError:
                name = f"signal {-self.returncode}"
            return f"the model process was killed by {name}"
        return f"the model process exited with status {self.returncode}"


def run_child(code: str, args: list[str], timeout: float = TIMEOUT_S) -> SelfTest:
    t0 = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code, *args],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode("utf-8", "replace") if isinstance(exc.stderr, bytes) else ""
        return SelfTest(False, 124, "", err + f"\ntimed out after {timeout:.0f} s", timeout)
    return SelfTest(
        proc.returncode == 0, proc.returncode, proc.stdout, proc.stderr, time.monotonic() - t0
    )


def decode_in_child(model: Path, threads: int, code: str = _CHILD) -> SelfTest:
    """Load ``model`` and decode a short prompt plus a few tokens in a child process."""
    return run_child(code, [str(model), str(threads), PROMPT, str(GENERATE)])


def child_system_info() -> str:
    """llama.cpp's system-info line, read in a child too: a broken build may not even load."""
    result = run_child(_SYSTEM_INFO, [], timeout=120)
    if result.ok:
        return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else "(empty)"
    return f"unavailable ({result.failure}): {tail(result.stderr, 3)}"


def tail(text: str, lines: int) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def failure_report(result: SelfTest, system_info: str, build: dict[str, str]) -> str:
    """The message setup prints when the model cannot decode on this machine."""
    return "\n".join(
        [
            f"self-test FAILED: {result.failure} while loading the model and decoding a short "
            "prompt.",
            f"  CPU: {build.get('cpu', '?')}",
            f"  CPU features llama.cpp saw: {system_info}",
            f"  llama.cpp build flags: {build.get('build_flags', '?')}",
            f"  CPU variants built: {build.get('cpu_variants', '?')}",
            "  last lines the model process wrote:",
            *(f"    {line}" for line in (tail(result.stderr, 15) or "(nothing)").splitlines()),
            "Rebuild llama.cpp with a safe build (no AVX-512, no AMX), then run this again:",
            f"  {SAFE_REBUILD}",
            "and please report the lines above.",
        ]
    )


def run(model: Path, threads: int, code: str = _CHILD) -> int:
    """The self-test with its report; 0 when the model decoded."""
    from models.llama_build import describe

    result = decode_in_child(model, threads, code)
    if result.ok:
        detail = json.loads(result.stdout.strip().splitlines()[-1])
        print(
            f"self-test: the model decoded {detail['prompt_tokens']} prompt tokens and generated "
            f"{GENERATE} ({detail['generated']!r}) in {detail['seconds']:.1f} s"
        )
        print(f"self-test: llama.cpp uses: {child_system_info()}")
        return 0
    build = {k: str(v) for k, v in describe(with_system_info=False).items()}
    print(failure_report(result, child_system_info(), build), file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    return run(args.model, args.threads)


if __name__ == "__main__":
    sys.exit(main())
