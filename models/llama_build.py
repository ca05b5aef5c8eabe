"""What llama.cpp build this environment runs: its build record and the CPU features it uses.

scripts/build_llama.py writes the record (CMake arguments, CPU variants, compilers, cache key)
into the wheel it builds, as llama_cpp/article_bot_build.json; a llama-cpp-python installed any
other way has none. The system-info line is llama.cpp's own list of the CPU features its loaded
backend uses, the first thing a crash report needs.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

BUILD_INFO = "article_bot_build.json"
UNKNOWN_BUILD = "unknown (not built by scripts/setup.sh)"


def llama_package_dir() -> Path | None:
    """The installed llama_cpp package's directory, found without importing it (importing loads
    the native library)."""
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def build_record() -> dict[str, Any] | None:
    """The record scripts/build_llama.py left in the installed package, or None."""
    package = llama_package_dir()
    path = package / BUILD_INFO if package else None
    if path is None or not path.is_file():
        return None
    return dict(json.loads(path.read_text(encoding="utf-8")))


def ggml_cpu_libraries() -> list[Path]:
    """The ggml libraries of the installed build (the CPU backend modules among them)."""
    package = llama_package_dir()
    return sorted((package / "lib").glob("libggml*.so*")) if package else []


def system_info() -> str:
    """llama.cpp's system-info line: the CPU features of the backend it loaded."""
    import llama_cpp

    llama_cpp.llama_backend_init()
    return str(llama_cpp.llama_print_system_info().decode("utf-8", "replace").strip())


def cpu_model() -> str:
    """The CPU's model name as the kernel reports it."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or "unknown"


def describe(*, with_system_info: bool = True) -> dict[str, Any]:
    """The build in a few lines, for `article-bot info` and crash reports (which read the
    system-info line in a child process instead: ``with_system_info=False``)."""
    record = build_record()
    info = "not read"
    if with_system_info:
        try:
            info = system_info()
        except Exception as exc:  # a missing or broken library is itself the answer
            info = f"unavailable: {exc}"
    flags: str = UNKNOWN_BUILD
    if record is not None:
        flags = " ".join(record.get("cmake_args", []))
    return {
        "cpu": cpu_model(),
        "system_info": info,
        "build_flags": flags,
        "cpu_variants": " ".join(record.get("cpu_variants", [])) if record else UNKNOWN_BUILD,
        "build_key": record.get("key", "?") if record else UNKNOWN_BUILD,
        "compiler": record.get("cxx_compiler", "?") if record else UNKNOWN_BUILD,
    }
