"""The raw llama.cpp speed probe runs on a real model and reports what it measured."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.rawbench import main, raw_speed


@pytest.mark.slow
def test_raw_speed_measures_both_phases(smollm2_path: Path) -> None:
    result = raw_speed(smollm2_path, n_threads=2, n_prompt=32, n_gen=8, n_ctx=256, repetitions=1)
    assert result.pp_tokens_per_s > 0 and result.tg_tokens_per_s > 0
    assert result.pp_ms > 0 and result.tg_ms > 0
    assert result.pp_tokens_per_s == pytest.approx(32 / (result.pp_ms / 1000))
    print(
        f"\nsmollm2-135m raw: pp {result.pp_tokens_per_s:.0f} tok/s, "
        f"tg {result.tg_tokens_per_s:.1f} tok/s"
    )


@pytest.mark.slow
def test_raw_speed_at_depth_and_cli(smollm2_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = raw_speed(smollm2_path, 2, n_prompt=16, n_gen=4, n_ctx=256, depth=64, repetitions=1)
    assert result.depth == 64 and result.tg_tokens_per_s > 0
    assert (
        main(
            [
                str(smollm2_path),
                "--n-prompt",
                "8",
                "--n-gen",
                "2",
                "--n-ctx",
                "64",
                "--repetitions",
                "1",
            ]
        )
        == 0
    )
    assert '"tg_tokens_per_s"' in capsys.readouterr().out


def test_bad_arguments_fail_fast(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="exceeds n_ctx"):
        raw_speed(tmp_path / "x.gguf", 1, n_prompt=512, n_ctx=256)
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="cannot load"):
        raw_speed(junk, 1, n_prompt=8, n_gen=2, n_ctx=64)
