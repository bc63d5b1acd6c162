"""Telemetry writes: validated, plausibility-checked, idempotent by (DER, interval start) (seed 001 §2.1).

Two paths:

* :func:`ingest_readings` — what the HTTP API and the MQTT gateway call with a batch of readings (mappings).
  Every item is validated (field ranges, DER ownership), checked by :mod:`openvpp.platform.trust`, compared
  with what is stored, and then either accepted (stored, possibly with flags), counted as a duplicate (an
  exact replay: nothing stored twice) or rejected with its index, field and reason. Accepted items are written
  in one transaction with ``INSERT ... ON CONFLICT DO NOTHING``; rejected items leave no state. If the
  connection drops mid-batch the transaction rolls back and the whole batch can be sent again.
* :func:`bulk_ingest` — backfill of large frames: vectorised range checks, then ``COPY`` into a temporary
  table and one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` on PostgreSQL, ``INSERT OR IGNORE``
  executemany on SQLite. Idempotent like the first path; the history-based trust checks are not run.

A reading is ``{"der_id", "start", "interval_s" (default 300), "p_site_avg_kw", "p_site_min_kw",
"p_site_max_kw", "v_batt_avg_v", "v_batt_min_v", "v_batt_max_v", "soc", "p_der_kw", "envelope_fallback"}``;
``start`` is a tz-aware datetime, an ISO 8601 string with offset, or unix seconds. Powers follow the load
convention (+ = import/charging), ``soc`` is a fraction in [0, 1].
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, Engine, String, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from openvpp.errors import ValidationError
from openvpp.platform.store.models import Der, Telemetry, TelemetryFlag
from openvpp.platform.trust import TrustLimits, check_readings, previous_reading

__all__ = [
    "MAX_INTERVAL_S",
    "VALUE_FIELDS",
    "IngestResult",
    "bulk_ingest",
    "ingest_readings",
    "tenant_of",
]

#: reported values of a reading, in the order of :attr:`Telemetry` columns
VALUE_FIELDS: tuple[str, ...] = (
    "p_site_avg_kw",
    "p_site_min_kw",
    "p_site_max_kw",
    "v_batt_avg_v",
    "v_batt_min_v",
    "v_batt_max_v",
    "soc",
    "p_der_kw",
)
#: longest monitoring interval accepted (one day) [s]
MAX_INTERVAL_S = 86_400
#: default interval: the seed's 5-min monitoring (seed 001 §2.1) [s]
DEFAULT_INTERVAL_S = 300
#: largest magnitude accepted for any power or voltage value (guards against overflow and unit mistakes)
_MAX_ABS_VALUE = 1e6
_COLUMNS = ("der_pk", "start_s", "tenant_id", "interval_s", *VALUE_FIELDS, "envelope_fallback", "received_s")


@dataclasses.dataclass
class IngestResult:
    """Outcome of a telemetry batch.

    Attributes
    ----------
    accepted : int
        Readings stored now. [-]
    duplicates : int
        Readings already stored with the same values (a replay): not stored twice. [-]
    rejected : list of (index, field, reason)
        Readings not stored: position in the batch, the field at fault, and why.
    flagged : list of (index, check, reason)
        Stored readings that failed a plausibility check (:mod:`openvpp.platform.trust`).
    """

    accepted: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str, str]] = dataclasses.field(default_factory=list)
    flagged: list[tuple[int, str, str]] = dataclasses.field(default_factory=list)


def tenant_of(who: Any) -> int:
    """Tenant id of a principal (anything with ``tenant_id``) or of an int.

    Parameters
    ----------
    who : Principal or int
        Caller or tenant id. [-]

    Returns
    -------
    int
        Tenant id. [-]
    """
    tid = getattr(who, "tenant_id", who)
    if isinstance(tid, bool) or not isinstance(tid, int):
        raise ValidationError(f"tenant must be a tenant id or a principal (got {who!r})")
    return tid


def _to_unix_s(v: Any) -> int:
    if isinstance(v, bool):
        raise ValueError("not a time")
    if isinstance(v, int | float):
        if not math.isfinite(v):
            raise ValueError("not finite")
        return int(v)
    if isinstance(v, str):
        v = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    if isinstance(v, pd.Timestamp):
        v = v.to_pydatetime()
    if isinstance(v, dt.datetime):
        if v.tzinfo is None:
            raise ValueError("naive time")
        return int(v.timestamp())
    raise ValueError("not a time")


def _insert(session: Session) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _in(session: Session, column: Any, values: list, sqltype: Any) -> Any:
    """``column IN values``; on PostgreSQL ``column = ANY(:array)``, one parameter however many values."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(sqltype)))
    return column.in_(values)


def _num(v: Any) -> float:
    if v is None:
        return math.nan
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise TypeError
    return float(v)


def ingest_readings(
    session: Session,
    who: Any,
    readings: Sequence[Mapping[str, Any]],
    now_s: float | None = None,
    limits: TrustLimits | None = None,
    commit: bool = True,
) -> IngestResult:
    """Validate, check and store a batch of readings for one tenant; idempotent by (DER, interval start).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Session; the batch is committed in one transaction unless ``commit`` is False.
    who : Principal or int
        The tenant sending the readings (its DERs only; another tenant's DER is "unknown"). [-]
    readings : sequence of mapping
        Readings (see the module docstring).
    now_s : float, optional
        Server time for the "future" check (default now). [s]
    limits : TrustLimits, optional
        Plausibility thresholds.
    commit : bool
        Commit at the end (False: the caller commits).

    Returns
    -------
    IngestResult
    """
    tenant_id = tenant_of(who)
    now = time.time() if now_s is None else float(now_s)
    n = len(readings)
    result = IngestResult()
    if n == 0:
        return result
    der_ids: list[str] = [""] * n
    start = np.zeros(n, dtype=np.int64)
    dur = np.full(n, DEFAULT_INTERVAL_S, dtype=np.int64)
    vals = np.full((n, len(VALUE_FIELDS)), np.nan)
    fallback: list[bool | None] = [None] * n
    bad = np.zeros(n, dtype=bool)
    reject: dict[int, tuple[str, str]] = {}

    def _reject(i: int, field: str, reason: str) -> None:
        if not bad[i]:
            bad[i] = True
            reject[i] = (field, reason)

    for i, r in enumerate(readings):  # parse: one pass over the mappings, arrays out
        if not isinstance(r, Mapping):
            _reject(i, "(item)", f"a reading must be a JSON object (got {type(r).__name__})")
            continue
        d = r.get("der_id")
        if not isinstance(d, str) or not d:
            _reject(i, "der_id", "der_id is required: the id returned when the DER was registered")
            continue
        der_ids[i] = d
        try:
            start[i] = _to_unix_s(r.get("start"))
        except (ValueError, TypeError, OverflowError):
            _reject(
                i, "start", f"start must be a tz-aware ISO 8601 time or unix seconds (got {r.get('start')!r})"
            )
            continue
        iv = r.get("interval_s", DEFAULT_INTERVAL_S)
        if (
            isinstance(iv, bool)
            or not isinstance(iv, int | float)
            or not (0 < iv <= MAX_INTERVAL_S)
            or iv != int(iv)
        ):
            _reject(
                i,
                "interval_s",
                f"interval_s must be a whole number of seconds in (0, {MAX_INTERVAL_S}] (got {iv!r})",
            )
            continue
        dur[i] = int(iv)
        for k, f in enumerate(VALUE_FIELDS):
            try:
                vals[i, k] = _num(r.get(f))
            except TypeError:
                _reject(i, f, f"{f} must be a number or null (got {r.get(f)!r})")
                break
        fb = r.get("envelope_fallback")
        if fb is not None and not isinstance(fb, bool):
            _reject(i, "envelope_fallback", f"envelope_fallback must be true, false or null (got {fb!r})")
        fallback[i] = fb

    # vectorised range checks
    def _vector_reject(mask: np.ndarray, field: str, reason: Any) -> None:
        for i in np.flatnonzero(mask & ~bad):
            _reject(int(i), field, reason(int(i)) if callable(reason) else reason)

    finite_or_nan = ~np.isinf(vals) & ~(np.abs(np.nan_to_num(vals)) > _MAX_ABS_VALUE)
    for k, f in enumerate(VALUE_FIELDS):
        _vector_reject(~finite_or_nan[:, k], f, f"{f} must be finite with magnitude <= {_MAX_ABS_VALUE:g}")
    _vector_reject(np.all(np.isnan(vals), axis=1), "(item)", "a reading must report at least one value")
    s = vals[:, 6]
    with np.errstate(invalid="ignore"):
        _vector_reject((s < 0) | (s > 1), "soc", lambda i: f"soc is a fraction in [0, 1] (got {s[i]!r})")
        for a, b, c, name in ((0, 1, 2, "p_site"), (3, 4, 5, "v_batt")):
            lo_bad = vals[:, b] > vals[:, a]
            hi_bad = vals[:, a] > vals[:, c]
            mm_bad = vals[:, b] > vals[:, c]
            unit = "kw" if name == "p_site" else "v"
            _vector_reject(
                lo_bad | mm_bad,
                f"{name}_min_{unit}",
                f"{name}_min_{unit} must be <= {name}_avg_{unit} and <= {name}_max_{unit}",
            )
            _vector_reject(hi_bad, f"{name}_max_{unit}", f"{name}_max_{unit} must be >= {name}_avg_{unit}")
        _vector_reject(vals[:, 4] < 0, "v_batt_min_v", "battery voltages must be >= 0 V")

    # DERs of this tenant (another tenant's DER is just "unknown": nothing to infer)
    wanted = sorted({der_ids[i] for i in range(n) if not bad[i]})
    ders = (
        {
            row.id: row
            for row in session.execute(
                select(Der.id, Der.pk, Der.p_max_kw, Der.e_max_kwh).where(
                    Der.tenant_id == tenant_id, _in(session, Der.id, wanted, String)
                )
            )
        }
        if wanted
        else {}
    )
    pk = np.full(n, -1, dtype=np.int64)
    pmax = np.full(n, np.nan)
    emax = np.full(n, np.nan)
    for i in range(n):
        if bad[i]:
            continue
        row = ders.get(der_ids[i])
        if row is None:
            _reject(i, "der_id", f"unknown DER {der_ids[i]!r}; register it first with POST /v1/ders")
            continue
        pk[i], pmax[i] = row.pk, row.p_max_kw
        emax[i] = math.nan if row.e_max_kwh is None else row.e_max_kwh

    ok = ~bad
    # what is stored for these (DER, interval) pairs, and the last stored reading of each DER
    pairs = {(int(pk[i]), int(start[i])) for i in np.flatnonzero(ok)}
    stored: dict[tuple[int, int], tuple] = {}
    last: dict[int, tuple] = {}
    if pairs:
        pks = sorted({p for p, _ in pairs})
        cols = [
            Telemetry.der_pk,
            Telemetry.start_s,
            Telemetry.interval_s,
            *(getattr(Telemetry, f) for f in VALUE_FIELDS),
        ]
        for row in session.execute(
            select(*cols).where(
                _in(session, Telemetry.der_pk, pks, BigInteger),
                _in(session, Telemetry.start_s, sorted({t for _, t in pairs}), BigInteger),
            )
        ):
            k2 = (int(row[0]), int(row[1]))
            if k2 in pairs:
                stored[k2] = tuple(row[2:])
        last_start = (
            select(Telemetry.der_pk, func.max(Telemetry.start_s).label("m"))
            .where(_in(session, Telemetry.der_pk, pks, BigInteger))
            .group_by(Telemetry.der_pk)
            .subquery()
        )
        for row in session.execute(
            select(*cols).join(
                last_start, (Telemetry.der_pk == last_start.c.der_pk) & (Telemetry.start_s == last_start.c.m)
            )
        ):
            last[int(row[0])] = tuple(row[1:])

    # duplicates and conflicts, against the store and earlier items of the batch
    seen: dict[tuple[int, int], int] = {}
    dup = np.zeros(n, dtype=bool)
    for i in map(int, np.flatnonzero(ok)):
        key = (int(pk[i]), int(start[i]))
        mine = (int(dur[i]), *(None if math.isnan(v) else float(v) for v in vals[i]))
        other = stored.get(key)
        if other is None and key in seen:
            j = seen[key]
            other = (int(dur[j]), *(None if math.isnan(v) else float(v) for v in vals[j]))
        if other is None:
            seen[key] = int(i)
            continue
        other = tuple(None if (isinstance(v, float) and math.isnan(v)) else v for v in other)
        if tuple(other) == mine:
            dup[i] = True
        else:
            names = ("interval_s", *VALUE_FIELDS)
            diff = next(names[k] for k in range(len(mine)) if mine[k] != other[k])
            _reject(
                int(i),
                diff,
                f"a different reading for this DER and interval is already stored ({diff} "
                f"{other[names.index(diff)]!r}); readings are immutable once stored",
            )
    ok = ~bad & ~dup

    # plausibility checks on the readings that would be stored
    idx = np.flatnonzero(ok)
    m = len(idx)
    if m:
        st_start = np.array([last.get(int(p), (-1,))[0] for p in pk[idx]], dtype=np.int64)
        st_vals = np.array(
            [last[int(p)][2:] if int(p) in last else (None,) * len(VALUE_FIELDS) for p in pk[idx]],
            dtype=float,
        ).reshape(m, len(VALUE_FIELDS))
        prev, ooo = previous_reading(pk[idx], start[idx], st_start)
        findings = check_readings(
            start[idx],
            dur[idx],
            vals[idx, 7],
            vals[idx, 6],
            vals[idx],
            pmax[idx],
            emax[idx],
            prev,
            ooo,
            st_start,
            st_vals[:, 6],
            st_vals,
            now,
            limits,
        )
        for j in map(int, np.flatnonzero(findings.reject)):
            _reject(int(idx[j]), findings.reject_field[j], findings.reject_reason[j])
        result.flagged = [(int(idx[j]), c, r) for j, c, r in findings.flags if not findings.reject[j]]
        ok = ~bad & ~dup

    # write the accepted readings and their flags in one transaction
    recv = int(now)
    rows = [
        {
            "der_pk": int(pk[i]),
            "start_s": int(start[i]),
            "tenant_id": tenant_id,
            "interval_s": int(dur[i]),
            **{
                f: (None if math.isnan(vals[i, k]) else float(vals[i, k])) for k, f in enumerate(VALUE_FIELDS)
            },
            "envelope_fallback": fallback[i],
            "received_s": recv,
        }
        for i in np.flatnonzero(ok)
    ]
    inserted: set[tuple[int, int]] = set()
    if rows:
        if session.get_bind().dialect.name == "postgresql":
            inserted = _insert_postgres(session, pd.DataFrame(rows, columns=list(_COLUMNS)))
        else:
            table: Any = Telemetry.__table__  # Core insert: no ORM bookkeeping per row
            stmt = sqlite_insert(table).on_conflict_do_nothing().returning(table.c.der_pk, table.c.start_s)
            inserted = {(int(a), int(b)) for a, b in session.execute(stmt, rows)}
        # rows not inserted were written by a concurrent request between our read and our insert: duplicates
        for i in map(int, np.flatnonzero(ok)):
            if (int(pk[i]), int(start[i])) not in inserted:
                dup[i] = True
        flag_rows = [
            {
                "tenant_id": tenant_id,
                "der_pk": int(pk[i]),
                "start_s": int(start[i]),
                "check_name": c,
                "reason": r,
                "created_s": recv,
            }
            for i, c, r in result.flagged
            if (int(pk[i]), int(start[i])) in inserted
        ]
        if flag_rows:
            session.execute(_insert(session)(TelemetryFlag.__table__).on_conflict_do_nothing(), flag_rows)
        result.flagged = [f for f in result.flagged if (int(pk[f[0]]), int(start[f[0]])) in inserted]
    if commit:
        session.commit()
    result.accepted = len(inserted)
    result.duplicates = int(dup.sum())
    result.rejected = sorted((i, f, r) for i, (f, r) in reject.items())
    return result


def bulk_ingest(engine: Engine, who: Any, frame: pd.DataFrame, now_s: float | None = None) -> IngestResult:
    """Store a large frame of readings fast (COPY on PostgreSQL), idempotent by (DER, interval start).

    Parameters
    ----------
    engine : sqlalchemy.Engine
        Store engine.
    who : Principal or int
        Tenant owning the DERs. [-]
    frame : pandas.DataFrame
        Columns ``der_id`` (str), ``start_s`` (unix s, int), optional ``interval_s`` [s] and any of
        :data:`VALUE_FIELDS` [kW, V, -] and ``envelope_fallback``.
    now_s : float, optional
        Receive time written with the rows (default now). [s]

    Returns
    -------
    IngestResult
        ``accepted`` rows written, ``duplicates`` already stored, ``rejected`` with index (row position),
        field and reason.
    """
    tenant_id = tenant_of(who)
    if not isinstance(frame, pd.DataFrame):
        raise ValidationError("frame must be a pandas.DataFrame of readings")
    missing = {"der_id", "start_s"} - set(frame.columns)
    if missing:
        raise ValidationError(f"frame lacks column(s) {sorted(missing)}; needs der_id and start_s")
    unknown = set(frame.columns) - {"der_id", "start_s", "interval_s", "envelope_fallback", *VALUE_FIELDS}
    if unknown:
        raise ValidationError(f"frame has unknown column(s) {sorted(unknown)}; known: {list(VALUE_FIELDS)}")
    n = len(frame)
    result = IngestResult()
    if n == 0:
        return result
    with engine.connect() as conn:
        ids = pd.unique(frame["der_id"].astype(str))
        rows = conn.execute(
            select(Der.id, Der.pk).where(Der.tenant_id == tenant_id, Der.id.in_(list(ids)))
        ).all()
    pk_of = pd.Series({r.id: r.pk for r in rows}, dtype="float64")
    der_pk = frame["der_id"].astype(str).map(pk_of).to_numpy(dtype=float)
    start = pd.to_numeric(frame["start_s"], errors="coerce").to_numpy(dtype=float)
    interval = (
        pd.to_numeric(frame["interval_s"], errors="coerce").to_numpy(dtype=float)
        if "interval_s" in frame
        else np.full(n, float(DEFAULT_INTERVAL_S))
    )
    vals = np.column_stack(
        [
            pd.to_numeric(frame[f], errors="coerce").to_numpy(dtype=float)
            if f in frame
            else np.full(n, np.nan)
            for f in VALUE_FIELDS
        ]
    )
    checks = [
        (np.isnan(der_pk), "der_id", "unknown DER for this tenant"),
        (~np.isfinite(start), "start_s", "start_s must be unix seconds"),
        (
            ~np.isfinite(interval) | (interval <= 0) | (interval > MAX_INTERVAL_S),
            "interval_s",
            f"interval_s must be in (0, {MAX_INTERVAL_S}]",
        ),
        (
            np.isinf(vals).any(axis=1) | (np.abs(np.nan_to_num(vals)) > _MAX_ABS_VALUE).any(axis=1),
            "(row)",
            f"values must be finite with magnitude <= {_MAX_ABS_VALUE:g}",
        ),
        (
            (np.nan_to_num(vals[:, 6], nan=0.5) < 0) | (np.nan_to_num(vals[:, 6], nan=0.5) > 1),
            "soc",
            "soc is a fraction in [0, 1]",
        ),
    ]
    bad = np.zeros(n, dtype=bool)
    for mask, field, reason in checks:
        for i in np.flatnonzero(mask & ~bad)[:1000]:
            result.rejected.append((int(i), field, reason))
        bad |= mask
    keep = ~bad
    recv = int(time.time() if now_s is None else now_s)
    out = pd.DataFrame(
        {
            "der_pk": der_pk[keep].astype(np.int64),
            "start_s": start[keep].astype(np.int64),
            "tenant_id": tenant_id,
            "interval_s": interval[keep].astype(np.int64),
        }
    )
    for k, f in enumerate(VALUE_FIELDS):
        out[f] = vals[keep, k]
    out["envelope_fallback"] = (
        frame["envelope_fallback"][keep].to_numpy() if "envelope_fallback" in frame else None
    )
    out["received_s"] = recv
    n_ok = len(out)
    if engine.dialect.name == "postgresql":
        written = _copy_postgres(engine, out)
    else:
        written = _executemany_sqlite(engine, out)
    result.accepted = written
    result.duplicates = n_ok - written
    result.rejected.sort()
    return result


#: PostgreSQL binary COPY: file header (signature, flags, extension length) and trailer
_PGCOPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
_PGCOPY_TRAILER = (-1).to_bytes(2, "big", signed=True)


def _binary_copy_rows(out: pd.DataFrame) -> bytes:
    """Rows of the staging table in PostgreSQL's binary COPY format, built as one numpy record array.

    Every field has a fixed size (values as float8 with NaN for "absent", the fallback flag as int2 -1/0/1),
    so a record is a fixed-layout struct: field count, then (length, big-endian value) per field.
    """
    n = len(out)
    ints = [("der_pk", ">i4"), ("start_s", ">i8"), ("tenant_id", ">i4"), ("interval_s", ">i4")]
    fields: list[tuple[str, str]] = [("nfields", ">i2")]
    for name, dtype in [
        *ints,
        *((f, ">f8") for f in VALUE_FIELDS),
        ("fallback", ">i2"),
        ("received_s", ">i8"),
    ]:
        fields += [(f"len_{name}", ">i4"), (name, dtype)]
    rec = np.empty(n, dtype=np.dtype(fields))
    rec["nfields"] = len(ints) + len(VALUE_FIELDS) + 2
    for name, dtype in ints:
        rec[f"len_{name}"] = np.dtype(dtype).itemsize
        rec[name] = out[name].to_numpy()
    for f in VALUE_FIELDS:
        rec[f"len_{f}"] = 8
        rec[f] = out[f].to_numpy(dtype=float)
    fb = out["envelope_fallback"]
    rec["len_fallback"] = 2
    fb_obj = fb.to_numpy(dtype=object)
    fb_na = pd.isna(fb_obj)
    rec["fallback"] = np.where(fb_na, -1, np.where(fb_na, False, fb_obj).astype(bool).astype(np.int16))
    rec["len_received_s"] = 8
    rec["received_s"] = out["received_s"].to_numpy()
    return _PGCOPY_HEADER + rec.tobytes() + _PGCOPY_TRAILER


_STAGE_COLUMNS = ("der_pk", "start_s", "tenant_id", "interval_s", *VALUE_FIELDS, "fallback", "received_s")
_STAGE_DDL = (
    "CREATE TEMP TABLE IF NOT EXISTS telemetry_stage (der_pk int4, start_s int8, tenant_id int4, "
    f"interval_s int4, {', '.join(f'{f} float8' for f in VALUE_FIELDS)}, fallback int2, received_s int8) "
    "ON COMMIT DELETE ROWS"
)
_STAGE_SELECT = ", ".join(
    [
        "der_pk",
        "start_s",
        "tenant_id",
        "interval_s",
        *(f"NULLIF({f}, 'NaN'::float8)" for f in VALUE_FIELDS),
        "CASE fallback WHEN -1 THEN NULL ELSE fallback = 1 END",
        "received_s",
    ]
)
_STAGE_INSERT = (
    f"INSERT INTO telemetry ({', '.join(_COLUMNS)}) SELECT {_STAGE_SELECT} FROM telemetry_stage "
    "ON CONFLICT (der_pk, start_s) DO NOTHING"
)


def _stage_postgres(cur: Any, out: pd.DataFrame) -> None:
    cur.execute(_STAGE_DDL)
    with cur.copy(
        f"COPY telemetry_stage ({', '.join(_STAGE_COLUMNS)}) FROM STDIN WITH (FORMAT binary)"
    ) as copy:
        copy.write(_binary_copy_rows(out))


def _insert_postgres(session: Session, out: pd.DataFrame) -> set[tuple[int, int]]:
    """Accepted readings into ``telemetry`` in the session's transaction (binary COPY to the staging table,
    then INSERT ... ON CONFLICT DO NOTHING RETURNING); the set of (DER, start) actually written."""
    cur = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    _stage_postgres(cur, out)
    cur.execute(_STAGE_INSERT + " RETURNING der_pk, start_s")
    written = {(int(a), int(b)) for a, b in cur.fetchall()}
    cur.execute("DELETE FROM telemetry_stage")
    return written


def _copy_postgres(engine: Engine, out: pd.DataFrame) -> int:
    """Binary COPY into a temporary staging table, then one idempotent INSERT ... SELECT ... ON CONFLICT."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        _stage_postgres(cur, out)
        cur.execute(_STAGE_INSERT)
        written = cur.rowcount
        raw.commit()
        return int(written)
    except BaseException:
        raw.rollback()
        raise
    finally:
        raw.close()


def _executemany_sqlite(engine: Engine, out: pd.DataFrame) -> int:
    cols = ", ".join(_COLUMNS)
    marks = ", ".join("?" for _ in _COLUMNS)
    obj = out.astype(object).where(out.notna(), None)
    data = list(obj.itertuples(index=False, name=None))
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        sqlite_conn: Any = raw.driver_connection
        before = sqlite_conn.total_changes
        cur.executemany(f"INSERT OR IGNORE INTO telemetry ({cols}) VALUES ({marks})", data)
        written = sqlite_conn.total_changes - before
        raw.commit()
        return int(written)
    except BaseException:
        raw.rollback()
        raise
    finally:
        raw.close()
