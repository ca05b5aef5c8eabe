"""scripts/trim_llama_build.py: what the llama.cpp build keeps, drops and adds."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "trim_llama_build.py"

# The shape of llama.cpp's ggml/src/CMakeLists.txt around the variant lists (abridged).
GGML_CMAKE = """\
if (GGML_SYSTEM_ARCH STREQUAL "x86")
    set(FOO ON)
elseif (GGML_SYSTEM_ARCH STREQUAL "ARM")
endif()
if (GGML_CPU_ALL_VARIANTS)
    if (GGML_SYSTEM_ARCH STREQUAL "x86")
        ggml_add_cpu_backend_variant(x64)
        ggml_add_cpu_backend_variant(sse42              SSE42)
        if (NOT MSVC)
            ggml_add_cpu_backend_variant(ivybridge      SSE42 AVX F16C)
        endif()
        ggml_add_cpu_backend_variant(haswell            SSE42 AVX F16C FMA AVX2 BMI2)
        ggml_add_cpu_backend_variant(zen4               SSE42 AVX F16C FMA AVX2 BMI2 AVX512)
    elseif(GGML_SYSTEM_ARCH STREQUAL "ARM")
        ggml_add_cpu_backend_variant(armv8.0_1)
        ggml_add_cpu_backend_variant(armv8.2_1    DOTPROD)
    endif()
endif()
"""
BINDINGS_CMAKE = """\
if (LLAMA_BUILD)
    set(LLAMA_BUILD_COMMON ON CACHE BOOL "Build llama.cpp common library" FORCE)
    add_subdirectory(vendor/llama.cpp)
endif()
"""


@pytest.fixture(scope="module")
def trim() -> ModuleType:
    spec = importlib.util.spec_from_file_location("trim_llama_build", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def active_variants(text: str) -> list[str]:
    return [
        line.strip().removeprefix("ggml_add_cpu_backend_variant(").split()[0].rstrip(")")
        for line in text.splitlines()
        if line.strip().startswith("ggml_add_cpu_backend_variant(")
    ]


def test_keeps_only_the_chosen_x86_variants(trim: ModuleType) -> None:
    text, kept, dropped = trim.keep_variants(GGML_CMAKE, {"x64", "haswell"})
    assert kept == ["x64", "haswell"]
    assert dropped == ["sse42", "ivybridge", "zen4"]
    # Other architectures' lists and the rest of the file are untouched.
    assert active_variants(text) == ["x64", "haswell", "armv8.0_1", "armv8.2_1"]
    assert "# ggml_add_cpu_backend_variant(ivybridge      SSE42 AVX F16C)" in text
    assert text.count("\n") == GGML_CMAKE.count("\n")


def test_unknown_variant_or_missing_x64_is_refused(trim: ModuleType) -> None:
    with pytest.raises(SystemExit, match=r"unknown CPU variants \['skylake'\].*available: x64"):
        trim.keep_variants(GGML_CMAKE, {"x64", "skylake"})
    with pytest.raises(SystemExit, match="must include x64"):
        trim.keep_variants(GGML_CMAKE, {"haswell"})
    with pytest.raises(SystemExit, match="no x86 variant list"):
        trim.keep_variants("project(x)\n", {"x64"})


def test_turns_the_common_library_off(trim: ModuleType) -> None:
    text = trim.without_common(BINDINGS_CMAKE)
    assert 'set(LLAMA_BUILD_COMMON OFF CACHE BOOL "Build llama.cpp common library" FORCE)' in text
    with pytest.raises(SystemExit, match="found 0"):
        trim.without_common(text)


def test_command_line_edits_a_source_tree(trim: ModuleType, tmp_path: Path) -> None:
    ggml = tmp_path / trim.GGML_CMAKE
    ggml.parent.mkdir(parents=True)
    ggml.write_text(GGML_CMAKE, encoding="utf-8")
    (tmp_path / trim.BINDINGS_CMAKE).write_text(BINDINGS_CMAKE, encoding="utf-8")
    assert trim.main([str(tmp_path), "--cpu-variants", "x64 zen4", "--no-common"]) == 0
    assert active_variants(ggml.read_text(encoding="utf-8"))[:2] == ["x64", "zen4"]
    assert "LLAMA_BUILD_COMMON OFF" in (tmp_path / trim.BINDINGS_CMAKE).read_text(encoding="utf-8")
    # "all" leaves the variant list alone.
    ggml.write_text(GGML_CMAKE, encoding="utf-8")
    assert trim.main([str(tmp_path), "--cpu-variants", "all"]) == 0
    assert ggml.read_text(encoding="utf-8") == GGML_CMAKE


BINDINGS_PY = """\
_base_path = pathlib.Path(os.path.abspath(os.path.dirname(__file__))) / "lib"
# Load the library
_lib = load_shared_library(_lib_base_name, _base_path)

ctypes_function = ctypes_function_for_shared_library(_lib)
"""


def test_bindings_load_the_cpu_modules_from_their_lib_directory(trim: ModuleType) -> None:
    text = trim.load_backends_from_package(BINDINGS_PY)
    load = text.index("_lib = load_shared_library(_lib_base_name, _base_path)")
    assert load < text.index("_load_ggml_backends(_lib, _base_path)\n")
    assert text.index("_load_ggml_backends(_lib, _base_path)\n") < text.index("ctypes_function =")
    assert "ggml_backend_load_all_from_path(str(base_path).encode())" in text
    compile(text, "llama_cpp.py", "exec")
    with pytest.raises(SystemExit, match="has llama-cpp-python changed"):
        trim.load_backends_from_package(text)  # not twice
    with pytest.raises(SystemExit, match="has llama-cpp-python changed"):
        trim.load_backends_from_package("_lib = something_else()\n")


@pytest.fixture(scope="module")
def recipe(trim: ModuleType) -> ModuleType:
    path = SCRIPT.parent / "build_llama.py"
    spec = importlib.util.spec_from_file_location("build_llama", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_wheel_cache_key_covers_what_makes_the_wheel(recipe: ModuleType) -> None:
    inputs = recipe.build_inputs(recipe.CPU_VARIANTS.split())
    key = recipe.cache_key(inputs)
    assert key == recipe.cache_key(dict(inputs))
    assert set(inputs) >= {"llama_cpp_python", "cmake_args", "cpu_variants", "recipe_sha256"}
    assert set(inputs) >= {"c_compiler", "cxx_compiler", "cmake", "python", "platform"}
    assert set(inputs["recipe_sha256"]) == {"build_llama.py", "trim_llama_build.py"}
    for change in (
        {"cpu_variants": ["x64"]},
        {"cmake_args": [*inputs["cmake_args"], "-DGGML_NATIVE=ON"]},
        {"cxx_compiler": "c++ (other) 13.1"},
        {"python": "cpython-312 3.12.1"},
        {"recipe_sha256": {"build_llama.py": "0", "trim_llama_build.py": "0"}},
    ):
        assert recipe.cache_key({**inputs, **change}) != key, change
    # Never -march=native, and never the one variant with AMX.
    assert "-DGGML_NATIVE=OFF" in recipe.CMAKE_ARGS
    assert "sapphirerapids" not in recipe.CPU_VARIANTS.split()


def test_amx_variants_are_refused(recipe: ModuleType) -> None:
    for variants in ("x64 sapphirerapids", "all"):
        with pytest.raises(SystemExit, match="AMX"):
            recipe.main(["--cpu-variants", variants, "--print-key"])
