"""`article-bot bench`: the bot's speed beside raw llama.cpp, measured in one run on this machine.

It prints numbers and never fails on them: timings on a shared 2-core host are noisy, so targets
are shown beside the measurements for a reader to judge, not asserted.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bot.evaluation import percentile
from bot.settings import Settings

READY_MARK = "article-bot-ready"

TARGETS = {
    "gen_ratio": ">= 0.90",
    "first_token_p50_ms": "<= 1000",
    "total_p50_ms": "<= 3000",
    "retrieve_p50_ms": "<= 20",
    "peak_rss_mb": "<= 2048",
    "cold_start_s": "<= 15",
}


def _openings_info(answerer: Any) -> dict[str, Any]:
    """How the evidence lines' KV cells were saved and reused (``LocalLLM.info``)."""
    info: object = getattr(answerer.llm, "info", dict)()
    openings = info.get("openings") if isinstance(info, dict) else None
    return openings if isinstance(openings, dict) else {}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_split_mb(status: Path = Path("/proc/self/status")) -> tuple[float, float] | None:
    """Resident memory now, as (anonymous, mapped files) in MB; None where the kernel does not
    say. Mapped files are the libraries and model files read from disk: clean pages that the
    kernel may drop and other processes share, and how many of them are mapped depends on how it
    cached the files (freshly installed ones come in larger pieces), not on the bot."""
    try:
        fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        anon = int(fields["RssAnon"].split()[0]) / 1024
        files = int(fields["RssFile"].split()[0]) / 1024
    except (OSError, KeyError, ValueError, IndexError):
        return None
    return anon, files


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


@dataclass
class BenchResult:
    values: dict[str, Any]

    def render(self) -> str:
        v = self.values
        rows = [
            ("raw llama.cpp prompt processing (tok/s)", f"{v['raw_pp_tps']:.1f}", ""),
            ("raw llama.cpp generation (tok/s)", f"{v['raw_tg_tps']:.1f}", ""),
            ("bot generation (tok/s)", f"{v['gen_tps']:.1f}", ""),
            ("bot / raw generation speed", f"{v['gen_ratio']:.2f}", TARGETS["gen_ratio"]),
            ("retrieval p50 (ms)", f"{v['retrieve_p50_ms']:.1f}", TARGETS["retrieve_p50_ms"]),
            (
                "first answer token p50 (ms)",
                f"{v['first_token_p50_ms']:.0f}",
                TARGETS["first_token_p50_ms"],
            ),
            ("full answer p50 (ms)", f"{v['total_p50_ms']:.0f}", TARGETS["total_p50_ms"]),
            ("full answer p95 (ms)", f"{v['total_p95_ms']:.0f}", ""),
            ("repeated question, cached (ms)", f"{v['cached_ms']:.1f}", ""),
            ("cold start to ready (s)", f"{v['cold_start_s']:.1f}", TARGETS["cold_start_s"]),
            ("index build, cold (s)", f"{v['index_build_s']:.1f}", ""),
            ("peak RSS of the bot (MB)", f"{v['peak_rss_mb']:.0f}", TARGETS["peak_rss_mb"]),
            (
                "  of it at the end: anonymous / files (MB)",
                "n/a"
                if v.get("rss_anon_mb") is None
                else f"{v['rss_anon_mb']:.0f} / {v['rss_file_mb']:.0f}",
                "",
            ),
            (f"load: {v['load_n']} queued at once (answers/min)", f"{v['load_per_min']:.1f}", ""),
            ("load: answers lost", str(v["load_lost"]), "== 0"),
            (
                "evidence lines saved now / before (s)",
                f"{v['openings_saved']}/{v['openings_saved_before']} ({v['openings_s']:.1f})",
                "",
            ),
            ("prompts that reused a saved line", str(v["openings_restored"]), ""),
        ]
        width = max(len(r[0]) for r in rows)
        head = (
            f"article-bot bench: model {v['model']}, {v['threads']} threads, "
            f"{v['questions']} questions, {v['cores']} cores ({v['cpu']}), {v['date']}"
        )
        lines = [head, f"{'measure':<{width}}  {'value':>9}  target", "-" * (width + 22)]
        lines += [f"{name:<{width}}  {value:>9}  {target}" for name, value, target in rows]
        return "\n".join(lines)


def _cold_start(settings: Settings) -> float:
    """Seconds from process start to a ready pipeline (model and index loaded, prefix primed)."""
    code = (
        "import sys\n"
        "from bot.settings import load_settings\n"
        "from bot.wiring import build_answerer\n"
        "build_answerer(load_settings())\n"
        f"print({READY_MARK!r}, flush=True)\n"
    )
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if READY_MARK in line:
            break
    elapsed = time.perf_counter() - started
    proc.wait(timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"cold-start probe failed with exit code {proc.returncode}")
    return elapsed


def _index_build_seconds() -> float:
    """Seconds to build the index from nothing, in a child process: the bot opens a built index,
    and a throwaway one built here would add its memory (~60 MB) to the bot's measured peak."""
    with tempfile.TemporaryDirectory(prefix="article-bot-bench-") as tmp:
        where = str(Path(tmp) / "index")
        code = (
            "import time\n"
            "from pathlib import Path\n"
            "from bot.settings import load_settings\n"
            "from bot.wiring import open_index\n"
            "fresh = load_settings().model_copy(\n"
            f"    update={{'index_path': Path({where!r}), 'chroma_host': None}}\n"
            ")\n"
            "started = time.perf_counter()\n"
            "open_index(fresh, progress=False)\n"
            "print(time.perf_counter() - started, flush=True)\n"
        )
        env = dict(os.environ, HF_HUB_OFFLINE="1")
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=900
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"index build probe failed with exit code {done.returncode}: {done.stderr[-400:]}"
            )
        return float(done.stdout.split()[-1])


async def _load_test(answerer: Any, questions: list[str]) -> tuple[float, int]:
    from bot.answer_queue import AnswerQueue

    queue = AnswerQueue(answerer, max_size=len(questions) + 1)
    started = time.perf_counter()
    results = await asyncio.gather(
        *(
            queue.submit(q, history=(), user_id=n, on_text=None, on_position=None)
            for n, q in enumerate(questions)
        ),
        return_exceptions=True,
    )
    elapsed = time.perf_counter() - started
    await queue.close(cancel_pending=False)
    answered = sum(1 for r in results if not isinstance(r, BaseException) and r.text)
    return answered / elapsed * 60, len(questions) - answered


def run_bench(
    settings: Settings, *, short: bool = False, load_n: int = 20, json_out: bool = False
) -> int:
    from bot.evaluation import load_questions
    from bot.wiring import build_answerer, resolve_model_path
    from models.rawbench import raw_speed

    def note(msg: str) -> None:
        print(f"bench: {msg}", file=sys.stderr, flush=True)

    questions = [q.question for q in load_questions() if q.answerable and q.kind != "injection"]
    if short:
        questions = questions[:: max(1, len(questions) // 8)][:8]
        load_n = min(load_n, 6)

    note("index build (cold, in a temporary directory)")
    index_s = _index_build_seconds()
    note("cold start probe")
    cold_s = _cold_start(settings)

    note(f"pipeline on {len(questions)} questions")
    # The evidence lines' KV cells saved first (a first start saves them in the background),
    # so the numbers are the steady state, not a race with that work.
    answerer = build_answerer(settings, openings="wait")
    openings = _openings_info(answerer)
    answerer.cache.clear()
    retrieve, first, total = [], [], []
    # Generation speed pooled over all answers (tokens after the first / their time): a median
    # of per-answer rates swings with the few-token answers.
    gen_tokens, gen_seconds = 0, 0.0
    for q in questions:
        a = answerer.answer(q)
        retrieve.append(a.timings_ms["retrieve"])
        if not a.refused:
            first.append(a.timings_ms["first_token"])
            total.append(a.timings_ms["total"])
            gen_ms = a.timings_ms.get("llm_total", 0.0) - a.timings_ms.get("llm_first_token", 0.0)
            tokens = a.usage.get("completion_tokens", 0)
            if gen_ms > 0 and tokens > 1:
                gen_tokens += tokens - 1
                gen_seconds += gen_ms / 1000
    t0 = time.perf_counter()
    answerer.answer(questions[0])
    cached_ms = (time.perf_counter() - t0) * 1000

    note(f"load: {load_n} questions queued at once")
    answerer.cache.clear()
    pool = (questions * (load_n // max(1, len(questions)) + 1))[:load_n]
    # Distinct texts so the answer cache can't serve them.
    pool = [f"{q} ({n})" if n >= len(questions) else q for n, q in enumerate(pool)]
    per_min, lost = asyncio.run(_load_test(answerer, pool))
    peak_rss = _rss_mb()
    split = rss_split_mb()
    restored = _openings_info(answerer).get("restored", 0)

    model_path = resolve_model_path(settings)
    threads = settings.n_threads
    depth = answerer.prefix_tokens if answerer.article_in_prefix else 0
    answerer.llm.close()
    # Raw speed at the depth where the bot generates (after the fixed prefix): attention over a
    # 2,000-token context costs more than over an empty one, for both.
    note(f"raw llama.cpp speed on the same model and threads, at context depth {depth}")
    raw = raw_speed(model_path, threads, n_ctx=settings.n_ctx, depth=depth)
    gen = gen_tokens / gen_seconds if gen_seconds > 0 else 0.0
    result = BenchResult(
        {
            "date": date.today().isoformat(),
            "cores": os.cpu_count(),
            "cpu": _cpu_model(),
            "model": model_path.name,
            "threads": threads,
            "depth": depth,
            "questions": len(questions),
            "raw_pp_tps": raw.pp_tokens_per_s,
            "raw_tg_tps": raw.tg_tokens_per_s,
            "gen_tps": gen,
            "gen_ratio": gen / raw.tg_tokens_per_s if raw.tg_tokens_per_s else 0.0,
            "retrieve_p50_ms": statistics.median(retrieve) if retrieve else 0.0,
            "first_token_p50_ms": statistics.median(first) if first else 0.0,
            "total_p50_ms": statistics.median(total) if total else 0.0,
            "total_p95_ms": percentile(total, 0.95),
            "cached_ms": cached_ms,
            "cold_start_s": cold_s,
            "index_build_s": index_s,
            "peak_rss_mb": peak_rss,
            "rss_anon_mb": split[0] if split else None,
            "rss_file_mb": split[1] if split else None,
            "load_n": load_n,
            "load_per_min": per_min,
            "load_lost": lost,
            "openings_saved": openings.get("saved", 0),
            "openings_saved_before": openings.get("saved_before", 0),
            "openings_s": openings.get("ms", 0.0) / 1000,
            "openings_restored": restored,
        }
    )
    print(json.dumps(result.values, indent=2) if json_out else result.render(), flush=True)
    return 0
