"""Coverage in blocks of time steps: independent tasks whose partial summaries merge.

A *block* is one or more consecutive chunks of :func:`orbitjax.coverage`'s time
loop. Each block folds its own chunks into fresh figure-of-merit states (a
*partial summary*: :class:`~orbitjax.kernels.merit.MeritState` and
:class:`~orbitjax.kernels.merit.TimedState`) and returns it with its rows of the
per-step outputs (coverage fraction, raster, positions). Blocks share nothing,
so they run anywhere, in any order:

- on the devices of this process (``jax.devices()``), one block per device at a time;
- on one CPU device, two blocks at once by two threads: :func:`orbitjax.coverage`'s
  default there (:func:`orbitjax.memory.host_blocks`), writing their rows of the
  window's arrays in place;
- as Dask tasks on a ``dask.distributed`` cluster (LocalCluster, HPC, cloud).

The partial summaries are combined with the jitted merges
(:func:`~orbitjax.kernels.merit.merit_merge`, :func:`~orbitjax.kernels.merit.timed_merge`)
in one fixed binary tree over the block indices, whatever order the blocks finish
in: as merge tasks on the cluster (:class:`ClusterTree`, ``coverage(client=...)``)
or on the client (:class:`TreeReducer`, which ``orbitjax run`` checkpoints). Either way every run of the same scenario and block size gives
bit-identical files, and these equal the sequential loop's except for the
rounding of event-timed float sums (``docs/merge_algebra.md``).

Memory: a block holds its chunks' device work arrays (as the sequential loop)
plus its rows of the raster (``block_steps * lat * lon * 2 B``) and a summary
(about 100 B per cell and mask); the client holds at most ``log2(blocks) + 1``
summaries when blocks finish roughly in order.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import NamedTuple

import jax
import numpy as np

from .allocator import tune_allocator
from .analysis import _dataset, _Plan, _progress, _run_chunks
from .kernels.merit import merit_merge, timed_merge


class BlockResult(NamedTuple):
    """What one block returns (host arrays).

    Attributes:
      index, start, stop: block number and its steps ``start .. stop``.
      summary: (MeritState, TimedState or None): the block's partial summary.
      fraction: (E, n) coverage fraction per mask; raster (n, lat, lon) int16 or
      None; positions (n, sat, 3) float32 or None; usable (n, sat) bool (with
      gateways) or None.
      stats: (2,) int64 timed and approximated cell-steps; failed: failed satellite-steps.
    """

    index: int
    start: int
    stop: int
    summary: tuple
    fraction: np.ndarray
    raster: np.ndarray | None
    positions: np.ndarray | None
    stats: np.ndarray
    failed: int
    usable: np.ndarray | None = None


def block_ranges(plan: _Plan, block_steps: int | None = None) -> list[tuple[int, int]]:
    """``(start, stop)`` of each block: ``block_steps`` rounded up to whole chunks (default one chunk)."""
    if block_steps is not None and (isinstance(block_steps, bool) or int(block_steps) < 1):
        raise ValueError(f"block_steps = {block_steps!r} must be a positive number of time steps")
    chunks = 1 if block_steps is None else -(-int(block_steps) // plan.steps)
    size = chunks * plan.steps
    return [(a, min(a + size, plan.n_t)) for a in range(0, plan.n_t, size)]


def _match_x64(x64: bool) -> None:
    """Give this process (a Dask worker) the float width of the client that made the plan."""
    if bool(jax.config.jax_enable_x64) != x64:
        jax.config.update("jax_enable_x64", x64)


class WindowArrays(NamedTuple):
    """The window's host outputs, (E, time) fraction and (time, ...) raster, positions, usable (or None)."""

    fraction: np.ndarray
    raster: np.ndarray | None
    positions: np.ndarray | None
    usable: np.ndarray | None

    @classmethod
    def empty(cls, plan: _Plan, n: int, raster: np.ndarray | None = None) -> "WindowArrays":
        """Arrays for ``n`` steps; ``raster`` (the band's view of the output raster) if given."""
        n_masks, n_lat, n_lon = plan.cell_shape
        if raster is None and plan.save_raster:
            raster = np.empty((n, n_lat, n_lon), np.int16)
        return cls(np.empty((n_masks, n)), raster,
                   np.empty((n, plan.n_sat, 3), np.float32) if plan.save_positions else None,
                   np.empty((n, plan.n_sat), bool) if plan.gateway_names is not None else None)

    def rows(self, start: int, stop: int) -> "WindowArrays":
        """Views of steps ``start .. stop``."""
        return WindowArrays(self.fraction[:, start:stop],
                            *(None if x is None else x[start:stop] for x in self[1:]))


def compute_block(plan: _Plan, index: int, start: int, stop: int, device=None, *, out: WindowArrays | None = None,
                  bar=None, cancel: threading.Event | None = None) -> BlockResult:
    """Compute block ``index`` (steps ``start .. stop``) from empty states; the Dask task and the device task.

    ``out`` (in this process): the window's arrays, whose rows of this block are written in
    place (the result holds views of them); ``bar``: a progress bar updated per chunk;
    ``cancel``: once set, the block stops before its next chunk (``analysis.Cancelled``).
    """
    _match_x64(plan.x64)
    # No jax.default_device context for the default device: the context is part of jit's cache
    # key, and entering it would recompile every kernel this process already compiled.
    default = jax.config.jax_default_device or jax.devices()[0]
    with jax.default_device(device) if device not in (None, default) else contextlib.nullcontext():
        state, timed = plan.init_states()
        fraction, raster, positions, usable = (WindowArrays.empty(plan, stop - start) if out is None
                                               else out.rows(start, stop))
        state, timed, stats, failed = _run_chunks(plan, start, stop, state, timed, fraction=fraction,
                                                  raster=raster, positions=positions, usable=usable, bar=bar,
                                                  cancel=cancel)
    summary = jax.tree_util.tree_map(np.asarray, (state, timed))
    return BlockResult(index, start, stop, summary, fraction, raster, positions, stats, failed, usable)


def merge_summaries(a: tuple, b: tuple) -> tuple:
    """Partial summary of block(s) ``a`` followed by block(s) ``b`` (host arrays in and out)."""
    state = merit_merge(a[0], b[0])
    timed = None if a[1] is None else timed_merge(a[1], b[1])
    return jax.tree_util.tree_map(np.asarray, (state, timed))


class TreeReducer:
    """Merge the summaries of blocks ``0 .. n-1`` in one fixed binary tree, in whatever order they come.

    Node ``(level, j)`` covers blocks ``j 2^level .. (j+1) 2^level - 1`` (cut at
    ``n``); two sibling nodes merge into their parent as soon as both are there,
    a node without a sibling (past ``n``) moves up unchanged. The tree depends on
    ``n`` only, so the result does not depend on the order of arrival.

    ``on_change(key, value, removed)`` is called after every insertion with the
    node stored and the keys it replaced (the checkpoint keeps exactly the nodes
    held here).
    """

    def __init__(self, n_blocks: int, merge: Callable = merge_summaries, nodes: dict | None = None,
                 on_change: Callable | None = None):
        if n_blocks < 1:
            raise ValueError("a window has at least one block")
        self.n = n_blocks
        self.merge = merge
        self.nodes = dict(nodes or {})
        self.on_change = on_change
        self.root = (max(0, (n_blocks - 1).bit_length()), 0)

    def blocks_of(self, key: tuple[int, int]) -> range:
        level, j = key
        return range(j << level, min((j + 1) << level, self.n))

    def done_blocks(self) -> set[int]:
        return {b for key in self.nodes for b in self.blocks_of(key)}

    def add(self, index: int, summary) -> None:
        key, value, removed = (0, index), summary, []
        while key != self.root:
            level, j = key
            sibling = (level, j ^ 1)
            if not self.blocks_of(sibling):  # past the last block: move up alone
                key = (level + 1, j >> 1)
                continue
            if sibling not in self.nodes:
                break
            other = self.nodes.pop(sibling)
            removed.append(sibling)
            value = self.merge(other, value) if j & 1 else self.merge(value, other)
            key = (level + 1, j >> 1)
        self.nodes[key] = value
        if self.on_change is not None:
            self.on_change(key, value, removed)

    def result(self):
        if set(self.nodes) != {self.root}:
            missing = self.n - len(self.done_blocks())
            raise RuntimeError(f"{missing} of {self.n} blocks have not been merged")
        return self.nodes[self.root]


def local_devices(devices=None) -> list:
    """The JAX devices to use: all (None), the first ``devices`` (an int) or the given list."""
    available = jax.devices()
    if devices is None:
        return available
    if isinstance(devices, int):
        if devices < 1:
            raise ValueError(f"devices = {devices} must be at least 1")
        return available[:devices]
    return list(devices)


def local_results(plan: _Plan, todo: Iterable[tuple[int, int, int]], devices=None, *, out: WindowArrays | None = None,
                  bar=None) -> Iterator[BlockResult]:
    """Compute blocks ``(index, start, stop)`` in this process, one per device at a time; in finishing order.

    A device listed twice computes two blocks at once (two threads, see
    :func:`orbitjax.memory.host_blocks`). ``out`` and ``bar``: see :func:`compute_block`.
    """
    devs = local_devices(devices)
    todo = list(todo)
    if bar is not None:
        bar = _LockedBar(bar)
    if len(devs) == 1:
        for i, a, b in todo:
            yield compute_block(plan, i, a, b, devs[0], out=out, bar=bar)
        return
    free: queue.Queue = queue.Queue()
    for d in devs:
        free.put(d)

    cancel = threading.Event()

    def task(i, a, b):
        d = free.get()
        try:
            return compute_block(plan, i, a, b, d, out=out, bar=bar, cancel=cancel)
        finally:
            free.put(d)

    with ThreadPoolExecutor(max_workers=len(devs), thread_name_prefix="orbitjax-device") as pool:
        futures = [pool.submit(task, i, a, b) for i, a, b in todo]
        try:
            for f in as_completed(futures):
                yield f.result()
        finally:
            # Done, or abandoned (an error, Ctrl-C, a consumer that stopped): the blocks still
            # running stop after their current chunk, so leaving the pool waits for one chunk,
            # not for whole blocks.
            cancel.set()
            for f in futures:
                f.cancel()


class _LockedBar:
    """A progress bar updated from several threads."""

    def __init__(self, bar):
        self._bar, self._lock = bar, threading.Lock()

    def update(self, n: int) -> None:
        with self._lock:
            self._bar.update(n)


class SchedulerError(OSError):
    """The Dask scheduler cannot be reached; the message names its address."""


SCHEDULER_TIMEOUT_S = 10.0
"""How long to try to reach a scheduler given by address before giving up with one line."""


@contextlib.contextmanager
def dask_client(client=None, *, workers: int | None = None, timeout_s: float | None = None):
    """A ``distributed.Client``: the one given, one connected to an address, or a new LocalCluster.

    ``client``: a Client (used as is, not closed), a scheduler address such as
    ``tcp://10.0.0.5:8786`` (connected here, closed on exit) or None with
    ``workers``: a LocalCluster of that many single-threaded worker processes.

    Raises:
      SchedulerError: the address cannot be reached within ``timeout_s`` (one line).
    """
    import distributed  # noqa: PLC0415 (only the cluster paths need it)

    if isinstance(client, distributed.Client):
        yield client
        return
    if client is not None:
        address = str(client)
        timeout_s = SCHEDULER_TIMEOUT_S if timeout_s is None else timeout_s
        try:
            c = distributed.Client(address, timeout=f"{timeout_s}s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            detail = " ".join(str(exc).split()) or type(exc).__name__
            raise SchedulerError(f"cannot reach the Dask scheduler at {address} ({detail}); check the address "
                                 "and that the scheduler is running") from None
        with c:
            yield c
        return
    if not workers or workers < 1:
        raise ValueError(f"workers = {workers!r}: a LocalCluster needs at least 1 worker")
    # Worker processes share the accelerators: JAX must not grab 75 % of a GPU's memory in each.
    env = {"XLA_PYTHON_CLIENT_PREALLOCATE": os.environ.get("XLA_PYTHON_CLIENT_PREALLOCATE", "false")}
    with distributed.LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True,
                                  dashboard_address=None, env=env, silence_logs=logging.ERROR) as cluster, \
            distributed.Client(cluster, set_as_default=False) as c:
        c.wait_for_workers(int(workers))
        if os.environ.get("ORBITJAX_SHARE_CORES", "1") != "0":  # 0: every worker may use every core
            share_cores(c)
        # The allocator settings `orbitjax run` applies to itself, before the workers start
        # JAX's threads (they inherit ORBITJAX_TUNE_MALLOC=0, which leaves glibc's defaults).
        c.run(tune_allocator)
        yield c


def _pin_process(cores) -> None:
    """Keep every thread of this process, and the threads they start later, on ``cores``."""
    for tid in os.listdir("/proc/self/task"):
        try:
            os.sched_setaffinity(int(tid), cores)
        except OSError:  # a thread that ended meanwhile
            pass


def share_cores(client) -> None:
    """Give each worker of a local cluster its own share of this process's cores.

    XLA:CPU sizes its thread pool by the cores a process may run on, so N workers
    on C cores would each start C threads (N x C on C cores, which then wait on
    each other); with a share each, the pools add up to the machine. Done before
    the workers first use JAX (a pool keeps its size); Linux only, and only when
    there are at least as many cores as workers.
    """
    if not (hasattr(os, "sched_getaffinity") and os.path.isdir("/proc/self/task")):
        return
    cores = sorted(os.sched_getaffinity(0))
    workers = sorted(client.scheduler_info()["workers"])
    n = len(workers)
    if n < 2 or len(cores) < n:
        return
    for i, address in enumerate(workers):
        client.run(_pin_process, cores[i * len(cores) // n:(i + 1) * len(cores) // n], workers=[address])


def dask_results(plan: _Plan, todo: Iterable[tuple[int, int, int]], client) -> Iterator[BlockResult]:
    """Compute blocks as Dask tasks on ``client``'s cluster; results in finishing order.

    The plan is scattered once to every worker. A worker that dies mid-task has
    its tasks rerun elsewhere by the scheduler (the results are the same: a
    block depends on the plan and its range only).
    """
    from distributed import as_completed as dask_as_completed  # noqa: PLC0415

    todo = list(todo)
    if not todo:
        return
    [plan_future] = client.scatter([plan], broadcast=True, hash=False)
    run_id = uuid.uuid4().hex[:8]
    futures = [client.submit(compute_block, plan_future, i, a, b, key=f"orbitjax-block-{run_id}-{i}", pure=False)
               for i, a, b in todo]
    try:
        for f in dask_as_completed(futures, loop=client.loop):
            result = f.result()
            f.release()
            yield result
    finally:
        for f in futures:
            f.cancel()
        plan_future.release()


def _rows_only(r: BlockResult) -> BlockResult:
    return r._replace(summary=None)


def _summary_only(r: BlockResult) -> tuple:
    return r.summary


class ClusterTree:
    """Blocks as Dask tasks with their summaries merged on the cluster, in :class:`TreeReducer`'s tree.

    Iterating yields each block's rows (``summary`` None) as they finish; then
    :meth:`result` gathers the root summary, the only summary that reaches the
    client. Level by level, neighbours ``(2j, 2j + 1)`` merge and a last lone
    node moves up: the tree of :class:`TreeReducer`, so the result is bit-identical
    to the client-side reduction of the same blocks.
    """

    def __init__(self, plan: _Plan, ranges: list[tuple[int, int]], client):
        self.client = client
        [self._plan] = client.scatter([plan], broadcast=True, hash=False)
        run = uuid.uuid4().hex[:8]
        blocks = [client.submit(compute_block, self._plan, i, a, b, key=f"orbitjax-block-{run}-{i}", pure=False)
                  for i, (a, b) in enumerate(ranges)]
        self._rows = [client.submit(_rows_only, f, key=f"orbitjax-rows-{run}-{i}") for i, f in enumerate(blocks)]
        level = [client.submit(_summary_only, f, key=f"orbitjax-summary-{run}-0-{i}") for i, f in enumerate(blocks)]
        depth = 0
        while len(level) > 1:
            depth += 1
            level = [client.submit(merge_summaries, level[j], level[j + 1], key=f"orbitjax-merge-{run}-{depth}-{j}")
                     if j + 1 < len(level) else level[j] for j in range(0, len(level), 2)]
        self._root = level[0]

    def __iter__(self) -> Iterator[BlockResult]:
        from distributed import as_completed as dask_as_completed  # noqa: PLC0415

        for f in dask_as_completed(self._rows, loop=self.client.loop):
            yield f.result()
            f.release()

    def result(self) -> tuple:
        try:
            return self._root.result()
        finally:
            self._root.release()
            self._plan.release()


def block_results(plan: _Plan, todo, *, client=None, devices=None) -> Iterator[BlockResult]:
    """Block results from Dask (``client``: a distributed.Client) or from the local devices."""
    if client is not None:
        return dask_results(plan, todo, client)
    return local_results(plan, todo, devices)


def coverage_blocks(plan: _Plan, satellites, *, client=None, devices=None, block_steps=None, progress=None,
                    attrs=None):
    """:func:`orbitjax.coverage` by blocks (in memory): on a Dask cluster or over several local devices."""
    ranges = block_ranges(plan, block_steps)
    n_t, n_sat = plan.n_t, plan.n_sat
    whole, raster = plan.new_raster(n_t)
    out = WindowArrays.empty(plan, n_t, raster)
    reducer = TreeReducer(len(ranges))
    stats, failed = np.zeros(2, np.int64), 0
    todo = [(i, a, b) for i, (a, b) in enumerate(ranges)]
    with contextlib.ExitStack() as stack:
        bar = stack.enter_context(_progress(n_t, f"{n_sat} sats", progress))
        if client is not None:  # summaries merged on the cluster: only the root comes here
            client = stack.enter_context(dask_client(client))
            results = tree = ClusterTree(plan, ranges, client)
        else:  # the blocks write their rows of ``out`` and update the bar themselves
            results, tree = local_results(plan, todo, devices, out=out, bar=bar), None
        for r in results:
            stats += r.stats
            failed += r.failed
            if tree is None:
                reducer.add(r.index, r.summary)
            else:  # a task's rows come back with its result
                for dst, src in zip(out.rows(r.start, r.stop), (r.fraction, r.raster, r.positions, r.usable)):
                    if dst is not None:
                        dst[...] = src
                bar.update(r.stop - r.start)
        state, timed = reducer.result() if tree is None else tree.result()
    return _dataset(plan, satellites, state, timed, out.fraction, whole, out.positions, stats, failed, attrs,
                    usable=out.usable)


__all__ = ["BlockResult", "ClusterTree", "TreeReducer", "block_ranges", "block_results", "compute_block", "coverage_blocks",
           "dask_client", "merge_summaries", "SchedulerError"]

