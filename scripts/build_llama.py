"""Build and install llama-cpp-python the one way this project does, for setup.sh and the image.

llama-cpp-python ships as source; pip's default build compiles it with -march=native, which on
Intel CPUs that report AMX turns on llama.cpp's AMX code, and that crashes in VMs (llama.cpp
issue #20824). So it is built here with flags the project chooses: no -march=native, and
llama.cpp's run-time CPU dispatch (GGML_BACKEND_DL + GGML_CPU_ALL_VARIANTS): the CPU backend is
compiled once per CPU family as a loadable module and the best one the CPU supports is picked
when the library loads. No variant with AMX is kept (sapphirerapids is the only one; ggml's AMX
code compiles only with -mamx-* flags), so the library holds no AMX instruction.

pip's wheel cache keys a source build by package and version only, not by CMAKE_ARGS, CFLAGS or
the CPU it ran on, so it could silently reuse a wheel built another way. This script builds the
wheel itself, without pip's cache, into its own cache directory named by a hash of everything
that determines the wheel (this recipe's files, the version, the CMake arguments, the variants,
the compilers, CMake, Python), and installs from there. It records the build (flags, key,
compiler) in llama_cpp/article_bot_build.json inside the wheel, which `article-bot info` shows.

Usage (with the Python of the target environment):
    python scripts/build_llama.py [--cpu-variants "x64 haswell ..."] [--cache-dir DIR]
Env:   ARTICLE_BOT_LLAMA_CPU_VARIANTS   the variants when --cpu-variants is not given
       ARTICLE_BOT_CACHE_DIR            cache root (default ~/.cache/article-bot)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import trim_llama_build  # noqa: E402  (the recipe's other file, next to this one)

LLAMA_CPP_VERSION = "0.3.36"
# Plain x86-64 (runs anywhere), AVX2 (haswell: most servers since 2015, AMD Zen 1-3), AVX-VNNI
# (alderlake), AVX-512 (skylakex, icelake) and AVX-512 with VNNI and BF16 (zen4: also what Sapphire
# Rapids runs, without AMX). "all" would build all fourteen, AMX included, so it is refused.
CPU_VARIANTS = "x64 haswell alderlake skylakex icelake zen4"
AMX_VARIANTS = {"sapphirerapids"}
CMAKE_ARGS = (
    "-DGGML_NATIVE=OFF",
    "-DGGML_BACKEND_DL=ON",
    "-DGGML_CPU_ALL_VARIANTS=ON",
    "-DLLAVA_BUILD=OFF",
    # The CPU modules go into the package's lib directory, inside the wheel (by default they would
    # land in site-packages/bin), where the bindings load them from (see trim_llama_build.py).
    "-DCMAKE_INSTALL_BINDIR=llama_cpp/lib",
)
RECIPE_FILES = (Path(__file__).resolve(), HERE / "trim_llama_build.py")
BUILD_INFO = "article_bot_build.json"
# Environment that would change the compiled code without showing in the key: cleared for the
# build, so the key is the whole truth.
CLEARED_ENV = ("CFLAGS", "CXXFLAGS", "CPPFLAGS", "LDFLAGS", "FORCE_CMAKE", "CMAKE_ARGS")
# AMX's tile configuration, loads and stores, and its dot products (tdpbssd, tdpbf16ps, ...).
AMX_INSTRUCTION = re.compile(r"\t(ldtilecfg|sttilecfg|tileload\w*|tilestored|tilezero|tdp\w+)\b")


def log(message: str) -> None:
    print(f"build_llama: {message}", flush=True)


def tool_version(*command: str) -> str:
    """The first line of ``command --version``, or why there is none."""
    try:
        out = subprocess.run(
            [*command, "--version"], capture_output=True, text=True, check=False
        ).stdout
    except OSError:
        return "not found"
    return out.splitlines()[0].strip() if out else "unknown"


def build_inputs(variants: list[str]) -> dict[str, object]:
    """Everything that determines the wheel; its hash names the cache directory."""
    return {
        "llama_cpp_python": LLAMA_CPP_VERSION,
        "cmake_args": list(CMAKE_ARGS),
        "cpu_variants": variants,
        "recipe_sha256": {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in RECIPE_FILES},
        "c_compiler": tool_version(os.environ.get("CC", "cc")),
        "cxx_compiler": tool_version(os.environ.get("CXX", "c++")),
        "cmake": tool_version("cmake"),
        "python": f"{sys.implementation.cache_tag} {platform.python_version()}",
        "platform": sysconfig.get_platform(),
    }


def cache_key(inputs: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:20]


def pip(*args: str, env: dict[str, str] | None = None) -> None:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    subprocess.run(command, check=True, env=env)


def amx_instructions(lib_dir: Path) -> list[str]:
    """``file: mnemonic`` for each AMX instruction objdump finds in the ggml libraries."""
    found = []
    for lib in sorted(lib_dir.glob("libggml*.so")):
        out = subprocess.run(
            ["objdump", "-d", "--no-show-raw-insn", str(lib)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        found += [f"{lib.name}: {m}" for m in sorted(set(AMX_INSTRUCTION.findall(out)))]
    return found


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def build_wheel(inputs: dict[str, object], key: str, out_dir: Path) -> Path:
    """Download the sdist, edit it, compile the wheel into ``out_dir``; the wheel's path."""
    variants = inputs["cpu_variants"]
    assert isinstance(variants, list)
    with tempfile.TemporaryDirectory(prefix="llama-build-") as tmp:
        work = Path(tmp)
        pip(
            "download",
            "--no-deps",
            "--no-binary",
            "llama-cpp-python",
            "--no-cache-dir",
            "--dest",
            str(work / "sdist"),
            f"llama-cpp-python=={LLAMA_CPP_VERSION}",
        )
        (sdist,) = (work / "sdist").glob("llama_cpp_python-*.tar.gz")
        src = work / "src"
        with tarfile.open(sdist) as tar:
            # The "data" filter refuses links and paths out of the tree, where Python has it.
            safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            tar.extractall(work, **safe)  # type: ignore[arg-type]
        (src.parent / sdist.name.removesuffix(".tar.gz")).rename(src)
        trim_llama_build.main(
            [
                str(src),
                "--cpu-variants",
                " ".join(variants),
                "--no-common",
                "--load-backends-from-package",
            ]
        )
        info = {
            "key": key,
            **inputs,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        info_path = src / "llama_cpp" / BUILD_INFO
        env = {k: v for k, v in os.environ.items() if k not in CLEARED_ENV}
        env["CMAKE_ARGS"] = " ".join(CMAKE_ARGS)
        log(f"compiling llama-cpp-python {LLAMA_CPP_VERSION}: CMAKE_ARGS={env['CMAKE_ARGS']}")
        t0 = time.monotonic()
        cpu0 = _children_cpu_s()
        info_path.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        pip(
            "wheel",
            "--no-deps",
            "--no-cache-dir",
            "--wheel-dir",
            str(work / "wheel"),
            str(src),
            env=env,
        )
        seconds = time.monotonic() - t0
        cpu_s = _children_cpu_s() - cpu0
        (wheel,) = (work / "wheel").glob("llama_cpp_python-*.whl")
        check_wheel(wheel, variants, work / "check")
        out_dir.mkdir(parents=True, exist_ok=True)
        target = out_dir / wheel.name
        shutil.move(str(wheel), target)
        # CPU time beside the wall time: on a shared machine only the former is comparable.
        log(f"compiled in {seconds / 60:.1f} min ({cpu_s / 60:.1f} CPU-min): {target}")
        return target


def check_wheel(wheel: Path, variants: list[str], scratch: Path) -> None:
    """The wheel holds every chosen CPU module and the build record, and no AMX instruction, or
    it is not cached."""
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        missing = [v for v in variants if f"llama_cpp/lib/libggml-cpu-{v}.so" not in names]
        if missing or f"llama_cpp/{BUILD_INFO}" not in names:
            raise SystemExit(f"{wheel.name} lacks CPU modules {missing} or {BUILD_INFO}")
        libs = [n for n in names if n.startswith("llama_cpp/lib/libggml")]
        zf.extractall(scratch, members=libs)
    check_no_amx(scratch / "llama_cpp" / "lib")


def check_no_amx(lib_dir: Path) -> None:
    if not shutil.which("objdump"):
        log("objdump not found (binutils): the libraries were not checked for AMX instructions")
        return
    found = amx_instructions(lib_dir)
    if found:
        raise SystemExit(f"AMX instructions in {lib_dir}: {found}")
    log(f"no AMX instructions in {lib_dir}/libggml*.so")


def installed_build() -> dict[str, object] | None:
    """The build record of the llama-cpp-python in this environment, if this script made it."""
    for site in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}:
        path = Path(site) / "llama_cpp" / BUILD_INFO
        if path.is_file():
            return dict(json.loads(path.read_text(encoding="utf-8")))
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cpu-variants",
        default=os.environ.get("ARTICLE_BOT_LLAMA_CPU_VARIANTS") or CPU_VARIANTS,
        help=f'CPU backend variants to compile (default: "{CPU_VARIANTS}")',
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(os.environ.get("ARTICLE_BOT_CACHE_DIR") or Path.home() / ".cache/article-bot"),
    )
    parser.add_argument("--print-key", action="store_true", help="print the cache key and exit")
    args = parser.parse_args(argv)

    variants = args.cpu_variants.split()
    amx = sorted(AMX_VARIANTS.intersection(variants) | ({"all"} & set(variants)))
    if amx:
        raise SystemExit(
            f"CPU variants {amx} include llama.cpp's AMX code, which crashes in VMs "
            "(llama.cpp issue #20824): name the variants to build instead"
        )
    inputs = build_inputs(variants)
    key = cache_key(inputs)
    if args.print_key:
        print(key)
        return 0

    wheel_dir = args.cache_dir / "llama-wheels" / key
    wheels = sorted(wheel_dir.glob("llama_cpp_python-*.whl"))
    if wheels:
        wheel = wheels[0]
        log(f"reusing the wheel built with the same inputs: {wheel}")
    else:
        wheel = build_wheel(inputs, key, wheel_dir)

    current = installed_build()
    if current is not None and current.get("key") == key:
        log(f"llama-cpp-python {LLAMA_CPP_VERSION} (build {key}) is already installed")
    else:
        # --force-reinstall: the same version built another way (pip's own build) may be there.
        pip("install", "--no-index", "--no-cache-dir", "--no-deps", "--force-reinstall", str(wheel))
    lib_dir = Path(sysconfig.get_paths()["platlib"]) / "llama_cpp" / "lib"
    check_no_amx(lib_dir)
    modules = sorted(p.name for p in lib_dir.glob("libggml-cpu-*.so"))
    log(f"installed: {wheel.name} with {' '.join(modules)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
