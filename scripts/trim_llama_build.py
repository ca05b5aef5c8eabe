"""Edit a llama-cpp-python source tree before scripts/build_llama.py compiles it.

Two parts of the build cost minutes each on a two-core builder and give the bot nothing:

* CPU variants. With GGML_CPU_ALL_VARIANTS, llama.cpp compiles its CPU backend once per x86
  micro-architecture (fourteen times in the llama.cpp that llama-cpp-python 0.3.36 vendors) and
  loads the best one the CPU supports at run time. Only the chosen variants are kept; a CPU whose
  own variant was left out runs the best kept one it supports, and x64 (plain x86-64) runs on every
  CPU, so it is always kept.
* llama.cpp's `common` library (and the HTTP library only it uses), which llama-cpp-python forces
  on for its multimodal tools. The Python bindings load libllama and ggml only.

One part is added (--load-backends-from-package): with GGML_BACKEND_DL the CPU variants are
loadable modules, and ggml looks for them only in a directory fixed at compile time
(GGML_BACKEND_DIR), the executable's directory and the current directory. The bindings are made to
load them from their own lib directory, where the build installs them, so the wheel works in any
virtual environment it is installed into.

Usage: python trim_llama_build.py SOURCE_DIR --cpu-variants "x64 haswell ..." [--no-common]
       [--load-backends-from-package]       ("all" keeps every variant)
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

GGML_CMAKE = Path("vendor/llama.cpp/ggml/src/CMakeLists.txt")
BINDINGS_CMAKE = Path("CMakeLists.txt")
# The x86 list starts with the plain x86-64 variant and ends where the next architecture begins.
X86_BLOCK = re.compile(
    r"(?P<body>^\s*ggml_add_cpu_backend_variant\(x64\).*?)^\s*elseif\s*\(GGML_SYSTEM_ARCH",
    re.DOTALL | re.MULTILINE,
)
VARIANT = re.compile(r"^(\s*)ggml_add_cpu_backend_variant\(([\w.]+)", re.MULTILINE)
COMMON_ON = re.compile(r"set\(LLAMA_BUILD_COMMON ON (CACHE BOOL [^)]*FORCE)\)")
BINDINGS_PY = Path("llama_cpp/llama_cpp.py")
LIB_LOAD = "_lib = load_shared_library(_lib_base_name, _base_path)\n"
BACKEND_LOAD = """
# Added by article-bot's scripts/trim_llama_build.py: the ggml CPU backends are modules
# (GGML_BACKEND_DL) installed in this lib directory; load the best one for this CPU from here
# before llama_backend_init() would search only the current and the executable's directories.
# The functions are looked up through libllama, so they are those of the libggml it uses: the
# wheel holds copies, not links, of libggml.so and libggml.so.0, and a second copy would keep a
# backend registry of its own.
def _load_ggml_backends(lib: ctypes.CDLL, base_path: pathlib.Path) -> None:
    lib.ggml_backend_reg_count.restype = ctypes.c_size_t
    lib.ggml_backend_load_all_from_path.argtypes = [ctypes.c_char_p]
    if lib.ggml_backend_reg_count() == 0:
        lib.ggml_backend_load_all_from_path(str(base_path).encode())


_load_ggml_backends(_lib, _base_path)
"""


def keep_variants(text: str, keep: set[str]) -> tuple[str, list[str], list[str]]:
    """The CMake text with the x86 variants outside ``keep`` commented out; kept; dropped."""
    block = X86_BLOCK.search(text)
    if block is None:
        raise SystemExit(f"no x86 variant list found in {GGML_CMAKE}: has llama.cpp changed?")
    body = block.group("body")
    available = [m.group(2) for m in VARIANT.finditer(body)]
    unknown = sorted(keep - set(available))
    if unknown:
        raise SystemExit(
            f"unknown CPU variants {unknown} (available: {' '.join(available)}); fix the "
            "GGML_CPU_VARIANTS build argument"
        )
    if "x64" not in keep:
        raise SystemExit("GGML_CPU_VARIANTS must include x64: it is the one that runs everywhere")

    def drop(m: re.Match[str]) -> str:
        return m.group(0) if m.group(2) in keep else f"{m.group(1)}# {m.group(0).lstrip()}"

    new_body = VARIANT.sub(drop, body)
    kept = [name for name in available if name in keep]
    dropped = [name for name in available if name not in keep]
    start, end = block.span("body")
    return text[:start] + new_body + text[end:], kept, dropped


def without_common(text: str) -> str:
    """The bindings' CMake text with llama.cpp's common library turned off."""
    new, count = COMMON_ON.subn(r"set(LLAMA_BUILD_COMMON OFF \1)", text)
    if count != 1:
        raise SystemExit(
            f"expected one forced LLAMA_BUILD_COMMON in {BINDINGS_CMAKE}, found {count}: has "
            "llama-cpp-python changed? (drop --no-common)"
        )
    return new


def load_backends_from_package(text: str) -> str:
    """The bindings' llama_cpp.py loading the CPU backend modules from its own lib directory."""
    if text.count(LIB_LOAD) != 1 or "_load_ggml_backends" in text:
        raise SystemExit(
            f"expected one `{LIB_LOAD.strip()}` and no backend loading in {BINDINGS_PY}: has "
            "llama-cpp-python changed?"
        )
    return text.replace(LIB_LOAD, LIB_LOAD + BACKEND_LOAD)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="unpacked llama-cpp-python sdist")
    parser.add_argument("--cpu-variants", default="all", help='e.g. "x64 haswell"; "all"')
    parser.add_argument("--no-common", action="store_true", help="skip llama.cpp's common lib")
    parser.add_argument(
        "--load-backends-from-package",
        action="store_true",
        help="load the CPU backend modules from llama_cpp/lib (GGML_BACKEND_DL)",
    )
    args = parser.parse_args(argv)

    wanted = args.cpu_variants.split()
    if wanted and wanted != ["all"]:
        path = args.source / GGML_CMAKE
        text, kept, dropped = keep_variants(path.read_text(encoding="utf-8"), set(wanted))
        path.write_text(text, encoding="utf-8")
        print(f"CPU variants built: {' '.join(kept)}; left out: {' '.join(dropped) or 'none'}")
    else:
        print("CPU variants built: all")
    if args.no_common:
        path = args.source / BINDINGS_CMAKE
        path.write_text(without_common(path.read_text(encoding="utf-8")), encoding="utf-8")
        print("llama.cpp common library: not built")
    if args.load_backends_from_package:
        path = args.source / BINDINGS_PY
        path.write_text(load_backends_from_package(path.read_text(encoding="utf-8")), "utf-8")
        print("CPU backend modules: loaded from llama_cpp/lib")
    return 0


if __name__ == "__main__":
    sys.exit(main())
