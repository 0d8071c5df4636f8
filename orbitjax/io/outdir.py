"""An output folder shared by runs: a writer lock, a run manifest and stale temporaries.

- Lock: ``{dir}/.orbitjax.lock`` holds the writer's pid and host, created with
  ``O_EXCL``. A second writer is refused with one line; a lock whose process is
  gone (same host, pid not alive) is stale and taken over. Taking the lock is also
  the check that the folder can be written, done before any work.
- Manifest: ``{dir}/orbitjax_run.json`` lists the files of the latest run, in stage
  order, rewritten atomically after every file. Readers
  (:func:`orbitjax.compare.open_stages`) read only these files, so leftovers of an
  older run with more stages are ignored.
- Temporaries: a killed writer leaves ``.{name}.*.tmp``; the next run removes those
  of the names it is about to write.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from pathlib import Path

from .netcdf import stale_temporaries

LOCK_NAME = ".orbitjax.lock"
MANIFEST_NAME = "orbitjax_run.json"


class OutputDirError(OSError):
    """The output folder cannot be used (not writable, locked by another run); the message says which."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


class OutputLock:
    """Context manager: hold ``{directory}/.orbitjax.lock`` while writing a run.

    Creates the directory when missing (and removes it again on exit if the run left it empty).

    Raises:
      OutputDirError: the folder cannot be created or written, or another live run holds it.
    """

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        self.path = self.directory / LOCK_NAME
        self._created_dir = False

    def __enter__(self) -> "OutputLock":
        d = self.directory
        if d.exists() and not d.is_dir():
            raise OutputDirError(f"output path {d} exists and is not a directory")
        try:
            if not d.exists():
                d.mkdir(parents=True)
                self._created_dir = True
        except OSError as exc:
            raise OutputDirError(f"output folder {d}: cannot be created ({exc.strerror or exc})") from None
        me = f"{os.getpid()} {socket.gethostname()}\n"
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                holder = self._holder()
                if holder is not None:
                    pid, host = holder
                    raise OutputDirError(
                        f"output folder {d} is in use by another orbitjax run (pid {pid} on {host}; lock file "
                        f"{self.path}); wait for it to finish or choose another --out"
                    ) from None
                self.path.unlink(missing_ok=True)  # stale: its process is gone
                continue
            except OSError as exc:
                self._cleanup_dir()
                raise OutputDirError(f"output folder {d}: cannot be written ({exc.strerror or exc})") from None
            try:
                os.write(fd, me.encode())
            except OSError as exc:
                os.close(fd)
                self.path.unlink(missing_ok=True)
                self._cleanup_dir()
                raise OutputDirError(f"output folder {d}: cannot be written ({exc.strerror or exc})") from None
            os.close(fd)
            return self
        raise OutputDirError(f"output folder {d}: cannot take the lock {self.path}")

    def _holder(self) -> tuple[int, str] | None:
        """(pid, host) of a live holder, None when the lock is stale (or vanished)."""
        try:
            text = self.path.read_text().split()
            pid, host = int(text[0]), text[1] if len(text) > 1 else ""
        except FileNotFoundError:
            return None
        except (OSError, ValueError, IndexError):
            return (-1, "unknown host")  # unreadable lock being written: treat as held
        if host and host != socket.gethostname():
            return (pid, host)  # cannot tell whether a process on another machine is alive
        return (pid, host) if _pid_alive(pid) else None

    def _cleanup_dir(self) -> None:
        if self._created_dir:
            try:
                self.directory.rmdir()
            except OSError:
                pass

    def __exit__(self, *exc) -> None:
        self.path.unlink(missing_ok=True)
        self._cleanup_dir()  # only removes a folder this run created and left empty


def remove_stale_temporaries(directory: str | os.PathLike, names) -> list[Path]:
    """Remove ``.{name}.*.tmp`` files left by killed runs for the given file names (hold the lock)."""
    removed = []
    for p in stale_temporaries(directory, names):
        try:
            p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed


def write_manifest(directory: str | os.PathLike, files, *, complete: bool, **info) -> Path:
    """Atomically (re)write the run manifest listing ``files`` (names in ``directory``, stage order)."""
    directory = Path(directory)
    path = directory / MANIFEST_NAME
    body = {
        "format": "orbitjax run manifest 1",
        "files": [Path(f).name for f in files],
        "complete": bool(complete),
        "updated": f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%dT%H:%M:%SZ}",
        **info,
    }
    tmp = directory / f".{MANIFEST_NAME}.{os.getpid()}.tmp"
    try:
        tmp.write_text(json.dumps(body, indent=1) + "\n")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputDirError(f"{path}: cannot write the run manifest ({exc.strerror or exc})") from None
    return path


def read_manifest(directory: str | os.PathLike) -> list[Path] | None:
    """The files of the latest run listed in ``{directory}/orbitjax_run.json``; None without a manifest.

    Raises:
      ValueError: the manifest is not valid JSON with a list of file names (names the file).
    """
    path = Path(directory) / MANIFEST_NAME
    if not path.is_file():
        return None
    try:
        body = json.loads(path.read_text())
        files = body["files"]
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            raise TypeError
    except (OSError, ValueError, KeyError, TypeError):
        raise ValueError(f"{path}: not an orbitjax run manifest (expected JSON with a 'files' list); "
                         "delete it to read every *.nc file of the folder") from None
    return [Path(directory) / Path(f).name for f in files]
