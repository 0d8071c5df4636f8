"""Checkpoints of a block-wise run, kept in a temporary folder inside the output folder.

Layout of ``{out}/.orbitjax_partial/``:

- ``checkpoint.json``: the run's hash (scenario, options, block size, version:
  computed by the caller) and the stage files already written.
- ``stage{k}_{var}.npy``: the per-step outputs of stage ``k`` (``fraction``,
  ``raster``, ``positions``), memory-mapped ``.npy`` files filled block by block,
  so a long raster is never held in memory; the final NetCDF is copied from them.
- ``stage{k}_node_{level}_{j}.npz``: a merged partial summary (named arrays
  given by the caller) covering blocks ``j 2^level ..``; written after the rows of
  its blocks, atomically (temporary + rename), then the nodes it replaces removed.

A run killed at any point leaves a consistent checkpoint: rows are written before
the node that covers them, and a node that survived alongside its merged parent
is dropped on loading. The folder is removed when the run completes. Nothing here
computes: the caller decides what the arrays mean.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np

PARTIAL_DIR = ".orbitjax_partial"
_FORMAT = "orbitjax checkpoint 1"
_NODE = re.compile(r"stage(\d+)_node_(\d+)_(\d+)\.npz$")


class NotResumableError(ValueError):
    """``--resume`` cannot continue this run; the message says why in one line."""


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class Checkpoint:
    """The checkpoint folder of one run in ``out_dir`` (hold the output lock while using it).

    ``resume=False`` starts afresh (removing any older checkpoint); ``resume=True``
    continues the checkpoint left by a killed run with the same ``run_hash``.

    Raises:
      NotResumableError: resume without a checkpoint, or with one of another scenario.
    """

    def __init__(self, out_dir: str | os.PathLike, run_hash: str, *, resume: bool):
        self.dir = Path(out_dir) / PARTIAL_DIR
        self.meta_path = self.dir / "checkpoint.json"
        self.run_hash = run_hash
        if resume:
            if not self.meta_path.is_file():
                raise NotResumableError(f"{out_dir}: nothing to resume (no checkpoint {self.dir}); "
                                        "run without --resume")
            try:
                meta = json.loads(self.meta_path.read_text())
                old = str(meta["hash"])
                self.done = [str(n) for n in meta["stages_done"]]
            except (OSError, ValueError, KeyError, TypeError):
                raise NotResumableError(f"{self.meta_path}: damaged checkpoint; run without --resume") from None
            if old != run_hash:
                raise NotResumableError(
                    f"{out_dir}: not resumable: the scenario or run options changed since the checkpoint "
                    f"(hash {old[:12]} there, {run_hash[:12]} now); run without --resume to start over")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir.mkdir(parents=True)
            self.done = []
            self._write_meta()

    def _write_meta(self) -> None:
        body = {"format": _FORMAT, "hash": self.run_hash, "stages_done": self.done}
        _atomic_write_text(self.meta_path, json.dumps(body, indent=1) + "\n")

    def stage_done(self, name: str) -> bool:
        return name in self.done

    def mark_stage_done(self, index: int, name: str) -> None:
        """Record the stage file ``name`` as written and drop the stage's partial files."""
        self.done.append(name)
        self._write_meta()
        for p in self.dir.glob(f"stage{index}_*"):
            p.unlink(missing_ok=True)

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- per-stage rows ---------------------------------------------------------

    def rows(self, index: int, var: str, shape: tuple[int, ...], dtype) -> np.memmap:
        """The memory-mapped ``.npy`` of a stage's per-step output (created, or reopened when resuming)."""
        path = self.dir / f"stage{index}_{var}.npy"
        if path.is_file():
            arr = np.lib.format.open_memmap(path, mode="r+")
            if arr.shape == tuple(shape) and arr.dtype == np.dtype(dtype):
                return arr
            del arr
        return np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=tuple(shape))

    # --- per-stage summary nodes -------------------------------------------------

    def save_node(self, index: int, key: tuple[int, int], arrays: dict, removed=()) -> None:
        """Store node ``key`` of stage ``index`` (named arrays), then remove the nodes it replaces."""
        path = self.dir / f"stage{index}_node_{key[0]}_{key[1]}.npz"
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
        np.savez(tmp, **arrays)
        os.replace(tmp, path)
        for level, j in removed:
            (self.dir / f"stage{index}_node_{level}_{j}.npz").unlink(missing_ok=True)

    def load_nodes(self, index: int, blocks_of) -> dict:
        """``{key: arrays}`` of the stage's stored nodes; nodes inside another stored node are dropped.

        ``blocks_of(key)``: the blocks a node covers (a range).
        """
        keys = []
        for p in self.dir.glob(f"stage{index}_node_*.npz"):
            m = _NODE.search(p.name)
            if m and int(m.group(1)) == index:
                keys.append((int(m.group(2)), int(m.group(3))))
        keep = [k for k in keys
                if not any(o != k and set(blocks_of(k)) <= set(blocks_of(o)) for o in keys)]
        out = {}
        for k in keep:
            with np.load(self.dir / f"stage{index}_node_{k[0]}_{k[1]}.npz") as z:
                out[k] = {name: z[name] for name in z.files}
        return out
