"""The llama.cpp build installed in this environment: the project's recipe, no AMX, and it runs.

These check the real installed libraries (scripts/setup.sh builds them), not a description of
them: llama.cpp's AMX code crashes on Intel CPUs in VMs (llama.cpp issue #20824), and a build
with -march=native on such a CPU turns it on.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from models import llama_build, selftest

ROOT = Path(__file__).resolve().parents[2]
OBJDUMP = shutil.which("objdump")
# AMX's tile configuration, loads and stores, and its dot products (tdpbssd, tdpbf16ps, ...).
AMX = re.compile(r"\t(ldtilecfg|sttilecfg|tileload\w*|tilestored|tilezero|tdp\w+)\b")

needs_objdump = pytest.mark.skipif(
    OBJDUMP is None, reason="objdump (binutils) is not installed: cannot disassemble the build"
)


def amx_instructions(path: Path) -> set[str]:
    assert OBJDUMP is not None
    out = subprocess.run(
        [OBJDUMP, "-d", "--no-show-raw-insn", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return set(AMX.findall(out))


@needs_objdump
def test_the_amx_check_finds_amx_instructions(tmp_path: Path) -> None:
    # The check below is only worth something if it sees AMX code where there is some.
    assembler = shutil.which("as")
    if assembler is None:
        pytest.skip("as (binutils) is not installed: cannot make an object with AMX code")
    source = tmp_path / "amx.s"
    source.write_text(
        "ldtilecfg (%rax)\ntileloadd (%rax,%rbx,1), %tmm0\ntdpbssd %tmm2, %tmm1, %tmm0\n"
        "tilerelease\n",
        encoding="utf-8",
    )
    subprocess.run([assembler, str(source), "-o", str(tmp_path / "amx.o")], check=True)
    assert amx_instructions(tmp_path / "amx.o") == {"ldtilecfg", "tileloadd", "tdpbssd"}


@needs_objdump
def test_installed_ggml_libraries_hold_no_amx_instructions() -> None:
    libs = llama_build.ggml_cpu_libraries()
    cpu_modules = [p for p in libs if p.name.startswith("libggml-cpu")]
    assert cpu_modules, f"no ggml CPU backend among {libs}"
    found = {p.name: amx_instructions(p) for p in libs}
    assert not any(found.values()), f"AMX instructions in the installed llama.cpp: {found}"


def test_installed_build_is_the_projects_current_recipe() -> None:
    record = llama_build.build_record()
    assert record is not None, "llama-cpp-python was not built by scripts/setup.sh: run it"
    assert "-DGGML_NATIVE=OFF" in record["cmake_args"]
    assert "-DGGML_BACKEND_DL=ON" in record["cmake_args"]
    assert "sapphirerapids" not in record["cpu_variants"]
    lib = llama_build.ggml_cpu_libraries()[0].parent
    for variant in record["cpu_variants"]:
        assert (lib / f"libggml-cpu-{variant}.so").is_file(), variant
    # The wheel the recipe would build now is the one installed: a changed recipe, compiler or
    # variant list must not leave an old build in place unnoticed.
    key = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "build_llama.py"),
            "--print-key",
            "--cpu-variants",
            " ".join(record["cpu_variants"]),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert record["key"] == key, "the installed llama.cpp is an older build: run scripts/setup.sh"


def test_system_info_names_the_cpu_features_in_use() -> None:
    info = llama_build.system_info()
    assert "CPU :" in info, info
    assert "AMX" not in info, info
    # The run-time dispatch keeps the CPU's best kept variant: AVX-512 where the CPU has it.
    flags = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    if re.search(r"\bavx512f\b", flags):
        assert "AVX512 = 1" in info, info
    elif re.search(r"\bavx2\b", flags):
        assert "AVX2 = 1" in info, info


def test_describe_without_a_build_record_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(llama_build, "llama_package_dir", lambda: tmp_path)
    described = llama_build.describe(with_system_info=False)
    assert described["build_flags"] == "unknown (not built by scripts/setup.sh)"
    assert described["cpu_variants"] == "unknown (not built by scripts/setup.sh)"


def test_selftest_decodes_with_the_installed_build(
    smollm2_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert selftest.run(smollm2_path, threads=2) == 0
    out = capsys.readouterr().out
    assert "self-test: the model decoded" in out
    assert "llama.cpp uses: CPU :" in out


def test_selftest_explains_a_crash(smollm2_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A child that dies the way an unsuitable build does: by a signal, after writing a line.
    crash = "import os, signal, sys\nprint('decoding', file=sys.stderr, flush=True)\n"
    crash += "os.kill(os.getpid(), signal.SIGSEGV)\n"
    assert selftest.run(smollm2_path, threads=2, code=crash) == 1
    err = capsys.readouterr().err
    assert f"killed by {signal.Signals.SIGSEGV.name}" in err
    assert "CPU features llama.cpp saw: " in err and "CPU :" in err
    assert "    decoding" in err
    assert 'ARTICLE_BOT_LLAMA_CPU_VARIANTS="x64 haswell" bash scripts/setup.sh' in err
