"""One runner per job across API workers: a lease held in the database.

Several API workers over one PostgreSQL must not run a job twice at once. :class:`JobLease` takes a
session-level PostgreSQL advisory lock (``pg_try_advisory_lock``) on its own connection, keyed by the job's
name; the lock is released when the job ends or when the worker's connection dies, so a crashed worker does
not block the job. On SQLite (one machine, the embedded default) the same guarantee comes from an exclusive
``flock`` on a file beside the database, which the operating system also releases when the process dies.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Engine, text

__all__ = ["JobLease", "lock_key"]

_LOCAL = threading.Lock()
_HELD_LOCAL: set[str] = set()


def lock_key(name: str) -> int:
    """The signed 64-bit advisory-lock key of a job name (stable across processes).

    Parameters
    ----------
    name : str
        Job name.

    Returns
    -------
    int
        Key for ``pg_try_advisory_lock``. [-]
    """
    digest = hashlib.sha256(f"openvpp.job.{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class JobLease:
    """A non-blocking, exclusive lease on a job name, shared by every process using the same database.

    Use as ``with JobLease(engine, "outbox") as lease: if lease.acquired: ...``.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        Engine of the store.
    name : str
        Job name.
    """

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.name = name
        self.acquired = False
        self._conn: Connection | None = None
        self._file: IO[Any] | None = None

    def acquire(self) -> bool:
        """Try to take the lease; True when this process now holds it."""
        with _LOCAL:  # threads of one process
            if self.name in _HELD_LOCAL:
                return False
            _HELD_LOCAL.add(self.name)
        try:
            if self.engine.dialect.name == "postgresql":
                self._conn = self.engine.connect()
                got = bool(
                    self._conn.execute(
                        text("SELECT pg_try_advisory_lock(:k)"), {"k": lock_key(self.name)}
                    ).scalar()
                )
                self._conn.commit()
                if not got:
                    self._conn.close()
                    self._conn = None
            else:
                got = self._flock()
        except Exception:
            got = False
        if not got:
            with _LOCAL:
                _HELD_LOCAL.discard(self.name)
        self.acquired = got
        return got

    def _flock(self) -> bool:
        db = self.engine.url.database
        folder = Path(db).expanduser().resolve().parent if db and db != ":memory:" else Path.cwd()
        path = folder / f".openvpp-job-{hashlib.sha256(self.name.encode()).hexdigest()[:16]}.lock"
        fh = open(path, "a+")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            return False
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self._file = fh
        return True

    def alive(self) -> bool:
        """Whether the lease is still held (False once the PostgreSQL connection holding it died)."""
        if not self.acquired:
            return False
        if self._conn is None:
            return True
        try:
            self._conn.execute(text("SELECT 1"))
            self._conn.commit()
            return True
        except Exception:
            self.release()
            return False

    def release(self) -> None:
        """Give the lease back."""
        if not self.acquired:
            return
        try:
            if self._conn is not None:
                try:
                    self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key(self.name)})
                    self._conn.commit()
                finally:
                    self._conn.close()
            if self._file is not None:
                fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
                self._file.close()
        finally:
            self._conn, self._file, self.acquired = None, None, False
            with _LOCAL:
                _HELD_LOCAL.discard(self.name)

    def __enter__(self) -> JobLease:
        self.acquire()
        return self

    def __exit__(self, *_: Any) -> None:
        self.release()
