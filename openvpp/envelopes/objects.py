"""Operating envelopes the platform can publish, in the CSIP-AUS / IEEE 2030.5 DERControl sense.

An :class:`EnvelopeSet` holds, for a set of subjects (sites or constraint nodes) and a sequence of intervals
(start, duration), four optional limits of a DERControl base:

* ``opModExpLimW``  -- largest export at the connection point [W]
* ``opModImpLimW``  -- largest import at the connection point [W]
* ``opModGenLimW``  -- largest generation of the DER [W]
* ``opModLoadLimW`` -- largest load of the DER [W]

All limits are non-negative magnitudes in W; NaN means "not set". When no interval is valid at a time
(before, between or after the envelopes, or a limit left unset) the *default* DERControl applies -- the
static export limit the seed's fallback rule reverts to (seed 001 §2.1: a VPP that cannot reach the API
falls back to the static 5 kW limit).

Wire format (IEEE 2030.5 / CSIP-AUS)
------------------------------------
* **ActivePower** is ``{"value": Int16, "multiplier": Int8}`` meaning ``value x 10**multiplier`` W.
  :func:`encode_active_power` picks the *smallest* multiplier in ``[MULTIPLIER_MIN, MULTIPLIER_MAX]`` at
  which the rounded value fits Int16 (-32768 .. 32767), rounds half away from zero, and strips trailing
  zeros of the value while the multiplier is negative (``5000 W`` -> ``(5000, 0)``, ``7234.5 W`` ->
  ``(7235, 0)``, ``1.5 W`` -> ``(15, -1)``, ``40000 W`` -> ``(4000, 1)``). The decoded value is the
  nearest representable one: the error is at most half a unit of ``10**multiplier``.
  :func:`decode_active_power` is its inverse; both work on arrays and are what the platform's ``/v1``
  envelope API uses for ``opModExpLimW``, ``opModImpLimW``, ``opModGenLimW`` and ``opModLoadLimW``.
* **mRID** is a 128-bit identifier written as 32 upper-case hex digits; :func:`make_mrid` derives it
  deterministically (SHA-256, first 128 bits) from the subject, the interval and the encoded limits, so
  publishing the same envelope twice gives the same mRID and a changed envelope a new one.
* **creationTime** (unix s) is :attr:`EnvelopeSet.created`; **EventStatus** ``currentStatus`` is 0
  (Scheduled) for an interval that starts after ``creationTime`` and 1 (Active) for one that has started
  by then, with ``potentiallySuperseded`` false and ``dateTime`` = ``creationTime``.

The JSON document is ``{"kind", "tz", "subjects", "creationTime", "DERControl": [{"mRID", "subject",
"creationTime", "EventStatus", "interval": {"start": unix s, "duration": s}, "DERControlBase":
{"opModExpLimW": {"value", "multiplier"}, ...}}], "DefaultDERControl": {"mRID", "DERControlBase"}}``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from openvpp.envelopes.engine import STATIC_FLOOR_KW
from openvpp.errors import ValidationError
from openvpp.units import S_PER_MIN, kw_to_w

#: the four DERControl limits, in this order in :attr:`EnvelopeSet.limits_w`
LIMIT_FIELDS: tuple[str, ...] = ("opModExpLimW", "opModImpLimW", "opModGenLimW", "opModLoadLimW")
#: range of an IEEE 2030.5 Int16 ActivePower value [-]
INT16_MIN, INT16_MAX = -32768, 32767
#: multipliers (powers of ten) the encoder may choose; IEEE 2030.5 PowerOfTenMultiplierType is -9 .. 9 [-]
MULTIPLIER_MIN, MULTIPLIER_MAX = -3, 9
#: EventStatus.currentStatus codes of IEEE 2030.5 used here
EVENT_SCHEDULED, EVENT_ACTIVE = 0, 1

_NS_PER_S = 10**9


def encode_active_power(p_w: ArrayLike) -> tuple[NDArray[np.int16], NDArray[np.int8]]:
    """IEEE 2030.5 ActivePower ``(value, multiplier)`` of powers in W (CSIP-AUS DERControl limits).

    The multiplier is the smallest in ``[MULTIPLIER_MIN, MULTIPLIER_MAX]`` at which ``round(p_w /
    10**multiplier)`` (half away from zero) fits Int16; trailing zeros of the value are then moved into the
    multiplier while it is negative. ``value * 10**multiplier`` is the representable power nearest to
    ``p_w`` at that multiplier (see the module docstring).

    Parameters
    ----------
    p_w : array_like
        Power, any sign, finite, ``|p_w| <= 32767e9``. [W]

    Returns
    -------
    (value, multiplier) : tuple of numpy.ndarray
        Int16 values [-] and Int8 powers of ten [-], same shape as ``p_w``.

    Raises
    ------
    ValidationError
        If a power is not finite or too large for Int16 at multiplier 9.
    """
    p = np.asarray(p_w, dtype=float)
    if not np.all(np.isfinite(p)):
        raise ValidationError("ActivePower values must be finite numbers of W (got NaN or inf)")
    a = np.abs(p)
    mult = np.full(p.shape, MULTIPLIER_MAX, dtype=np.int64)
    val = np.zeros(p.shape, dtype=np.int64)
    done = np.zeros(p.shape, dtype=bool)
    for m in range(MULTIPLIER_MIN, MULTIPLIER_MAX + 1):
        v = np.floor(a * 10.0 ** (-m) + 0.5)
        fits = ~done & (v <= INT16_MAX)
        mult[fits] = m
        val[fits] = v[fits].astype(np.int64)
        done |= fits
    if not np.all(done):
        worst = float(a[~done].max())
        raise ValidationError(
            f"ActivePower {worst:g} W is too large for an Int16 value with multiplier <= {MULTIPLIER_MAX}; "
            f"the largest is {INT16_MAX}e{MULTIPLIER_MAX} W"
        )
    for _ in range(MULTIPLIER_MAX - MULTIPLIER_MIN):  # strip trailing zeros while the multiplier is < 0
        strip = (mult < 0) & (val % 10 == 0)
        if not np.any(strip):
            break
        val[strip] //= 10
        mult[strip] += 1
    mult[val == 0] = 0
    val = np.where(p < 0, -val, val)
    return val.astype(np.int16), mult.astype(np.int8)


def decode_active_power(value: ArrayLike, multiplier: ArrayLike) -> NDArray[np.float64]:
    """Power in W of IEEE 2030.5 ActivePower ``value x 10**multiplier`` (inverse of
    :func:`encode_active_power`).

    Parameters
    ----------
    value : array_like of int
        Int16 values. [-]
    multiplier : array_like of int
        Powers of ten in ``[-9, 9]``. [-]

    Returns
    -------
    numpy.ndarray
        Power. [W]

    Raises
    ------
    ValidationError
        If a value is not a whole number in the Int16 range or a multiplier is outside ``[-9, 9]``.
    """
    v = np.asarray(value, dtype=float)
    m = np.asarray(multiplier, dtype=float)
    if not np.all(np.isfinite(v)) or np.any(v != np.round(v)) or np.any((v < INT16_MIN) | (v > INT16_MAX)):
        raise ValidationError(
            f"ActivePower value must be a whole number in [{INT16_MIN}, {INT16_MAX}] (Int16); got {value!r}"
        )
    if not np.all(np.isfinite(m)) or np.any(m != np.round(m)) or np.any(np.abs(m) > 9):
        raise ValidationError(f"ActivePower multiplier must be a whole number in [-9, 9]; got {multiplier!r}")
    return v * 10.0 ** m


def active_power_to_dict(p_w: float) -> dict[str, int]:
    """One power as the CSIP-AUS JSON object ``{"value": Int16, "multiplier": Int8}``.

    Parameters
    ----------
    p_w : float
        Power. [W]

    Returns
    -------
    dict
        ``{"value": int, "multiplier": int}`` with ``value x 10**multiplier`` W.
    """
    v, m = encode_active_power(p_w)
    return {"value": int(v), "multiplier": int(m)}


def active_power_from_dict(obj: Any, field: str = "ActivePower") -> float:
    """Power in W of a CSIP-AUS ``{"value", "multiplier"}`` object (multiplier defaults to 0).

    Parameters
    ----------
    obj : dict
        The JSON object.
    field : str
        Name of the field it came from, for the error message.

    Returns
    -------
    float
        Power. [W]
    """
    if not isinstance(obj, dict) or "value" not in obj:
        raise ValidationError(f"{field} must be an object {{'value': int, 'multiplier': int}} (got {obj!r})")
    val, mult = obj["value"], obj.get("multiplier", 0)
    if isinstance(val, bool) or not isinstance(val, int | float) or isinstance(mult, bool) \
            or not isinstance(mult, int | float):
        raise ValidationError(f"{field}.value and .multiplier must be integers (got {obj!r})")
    try:
        return float(decode_active_power(val, mult))
    except ValidationError as exc:
        raise ValidationError(f"{field}: {exc}") from None


def make_mrid(*parts: object) -> str:
    """Deterministic 128-bit mRID (32 upper-case hex digits) from the given parts (IEEE 2030.5 mRIDType).

    Parameters
    ----------
    *parts : object
        Values that identify the object (subject, interval start and duration, encoded limits ...); their
        ``repr`` is hashed with SHA-256 and the first 128 bits are kept.

    Returns
    -------
    str
        32 hex digits.
    """
    h = hashlib.sha256("\x1f".join(repr(p) for p in parts).encode()).hexdigest()
    return h[:32].upper()


def _check_mrid(text: Any) -> str:
    s = str(text)
    if len(s) != 32 or any(c not in "0123456789abcdefABCDEF" for c in s):
        raise ValidationError(f"mRID must be 32 hex digits (128 bits) (got {text!r})")
    return s.upper()


def _default_limits(export_w: float | None = None) -> dict[str, float | None]:
    if export_w is None:
        export_w = float(kw_to_w(STATIC_FLOOR_KW))
    return {"opModExpLimW": export_w, "opModImpLimW": None, "opModGenLimW": None, "opModLoadLimW": None}


def _to_ts(when: object, name: str) -> pd.Timestamp:
    ts = pd.Timestamp(when)  # type: ignore[arg-type]
    if ts is pd.NaT or ts.tzinfo is None:
        raise ValidationError(f"{name} must be a tz-aware time (got {when!r}); give it a UTC offset or zone")
    return ts


@dataclasses.dataclass(frozen=True, eq=False)
class EnvelopeSet:
    """Envelopes for ``n_subjects`` sites or constraint nodes over ``n_intervals`` intervals.

    Parameters
    ----------
    subjects : tuple of str
        Site or constraint-node identifiers.
    kind : str
        ``"site"`` or ``"node"``.
    start : pandas.DatetimeIndex, shape (n_intervals,)
        Interval starts (tz-aware, increasing).
    duration_s : numpy.ndarray of int, shape (n_intervals,)
        Interval lengths. [s]
    limits_w : numpy.ndarray, shape (4, n_subjects, n_intervals)
        ``LIMIT_FIELDS`` limits; NaN = not set (the default applies). [W]
    default_w : dict
        Default DERControl limits (None = no limit). [W]
    created : pandas.Timestamp, optional
        Creation time of the envelopes (CSIP-AUS ``creationTime``); default: the first interval start.
    """

    subjects: tuple[str, ...]
    kind: str
    start: pd.DatetimeIndex
    duration_s: NDArray[np.int64]
    limits_w: NDArray[np.float64]
    default_w: dict = dataclasses.field(default_factory=_default_limits)
    created: pd.Timestamp | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("site", "node"):
            raise ValidationError(f"kind must be 'site' or 'node' (got {self.kind!r})")
        if not isinstance(self.start, pd.DatetimeIndex) or self.start.tz is None:
            raise ValidationError("start must be a tz-aware pandas.DatetimeIndex of interval starts")
        n_i = len(self.start)
        dur = np.asarray(self.duration_s)
        if dur.shape != (n_i,) or np.any(dur <= 0):
            raise ValidationError(
                f"duration_s must hold {n_i} positive durations in seconds (got shape {dur.shape})"
            )
        if n_i > 1:
            ends = self.start.asi8[:-1] // _NS_PER_S + dur[:-1]
            if np.any(np.diff(self.start.asi8) <= 0) or np.any(ends > self.start.asi8[1:] // _NS_PER_S):
                raise ValidationError("intervals must be increasing and must not overlap")
        lim = np.asarray(self.limits_w, dtype=float)
        if lim.shape != (4, len(self.subjects), n_i):
            raise ValidationError(
                f"limits_w must be shaped (4, n_subjects, n_intervals) = (4, {len(self.subjects)}, {n_i}) "
                f"(got {lim.shape}); the first axis is {LIMIT_FIELDS}"
            )
        if np.any(lim[~np.isnan(lim)] < 0) or np.any(np.isinf(lim)):
            raise ValidationError("limits_w must be finite non-negative magnitudes in W (NaN = not set)")
        bad = set(self.default_w) - set(LIMIT_FIELDS)
        if bad:
            raise ValidationError(f"default_w has unknown fields {sorted(bad)}; use {LIMIT_FIELDS}")
        created = self.created
        if created is None:
            created = self.start[0] if n_i else pd.Timestamp(0, tz="UTC")
        object.__setattr__(self, "created", _to_ts(created, "created"))
        object.__setattr__(self, "limits_w", lim)
        object.__setattr__(self, "duration_s", dur.astype(np.int64))

    @property
    def n_subjects(self) -> int:
        """Number of subjects (sites or nodes). [-]"""
        return len(self.subjects)

    @property
    def n_intervals(self) -> int:
        """Number of intervals. [-]"""
        return len(self.start)

    def _default_vector(self) -> NDArray[np.float64]:
        return np.array(
            [np.nan if self.default_w.get(f) is None else float(self.default_w[f]) for f in LIMIT_FIELDS]
        )

    def active_limits_w(self, when: object) -> dict[str, NDArray[np.float64]]:
        """Limits in force for every subject at time ``when``; the default where no envelope is valid.

        Parameters
        ----------
        when : str or pandas.Timestamp
            A tz-aware time.

        Returns
        -------
        dict of numpy.ndarray, shape (n_subjects,)
            One array per DERControl field; NaN means no limit at all. [W]
        """
        ts = pd.Timestamp(when)  # type: ignore[arg-type]
        if ts.tzinfo is None:
            raise ValidationError(
                f"when must be tz-aware (got {when!r}); localise it to the envelopes' time zone"
            )
        t_s = ts.value // _NS_PER_S
        starts = self.start.asi8 // _NS_PER_S
        j = int(np.searchsorted(starts, t_s, side="right")) - 1
        dflt = self._default_vector()
        if j < 0 or t_s >= starts[j] + self.duration_s[j]:
            vals = np.broadcast_to(dflt[:, None], (4, self.n_subjects))
        else:
            cur = self.limits_w[:, :, j]
            vals = np.where(np.isnan(cur), dflt[:, None], cur)
        return {f: np.array(vals[k]) for k, f in enumerate(LIMIT_FIELDS)}

    def to_dict(self) -> dict:
        """CSIP-AUS document (see the module docstring): encoded ActivePower, mRIDs, creation time, status.

        Returns
        -------
        dict
            JSON-ready; limits as ``{"value", "multiplier"}`` objects.
        """
        assert self.created is not None  # set in __post_init__
        created_s = int(self.created.value // _NS_PER_S)
        starts = (self.start.asi8 // _NS_PER_S).tolist()
        durs = self.duration_s.tolist()
        lim = self.limits_w
        isset = ~np.isnan(lim)
        val, mult = encode_active_power(np.where(isset, lim, 0.0))
        controls = []
        for si, subj in enumerate(self.subjects):
            for j in range(self.n_intervals):
                base = {
                    f: {"value": int(val[k, si, j]), "multiplier": int(mult[k, si, j])}
                    for k, f in enumerate(LIMIT_FIELDS)
                    if isset[k, si, j]
                }
                controls.append(
                    {
                        "mRID": make_mrid(self.kind, subj, starts[j], durs[j], sorted(base.items())),
                        "subject": subj,
                        "creationTime": created_s,
                        "EventStatus": {
                            "currentStatus": EVENT_SCHEDULED if starts[j] > created_s else EVENT_ACTIVE,
                            "dateTime": created_s,
                            "potentiallySuperseded": False,
                        },
                        "interval": {"start": starts[j], "duration": durs[j]},
                        "DERControlBase": base,
                    }
                )
        default = {f: active_power_to_dict(v) for f, v in self.default_w.items() if v is not None}
        return {
            "kind": self.kind,
            "tz": str(self.start.tz),
            "subjects": list(self.subjects),
            "creationTime": created_s,
            "DERControl": controls,
            "DefaultDERControl": {
                "mRID": make_mrid("default", self.kind, tuple(self.subjects), sorted(default.items())),
                "DERControlBase": default,
            },
        }

    def to_json(self, **kwargs: Any) -> str:
        """JSON text of :meth:`to_dict`.

        Parameters
        ----------
        **kwargs
            Passed to :func:`json.dumps` (e.g. ``indent``).

        Returns
        -------
        str
        """
        return json.dumps(self.to_dict(), **kwargs)

    def to_frame(self) -> pd.DataFrame:
        """Long table: one row per subject and interval with the four limits in W (NaN = not set).

        Returns
        -------
        pandas.DataFrame
            Columns ``subject``, ``start`` (tz-aware), ``duration_s`` [s] and the four ``LIMIT_FIELDS`` [W].
        """
        n_s, n_i = self.n_subjects, self.n_intervals
        frame = pd.DataFrame(
            {
                "subject": np.repeat(np.asarray(self.subjects, dtype=object), n_i),
                "start": np.tile(self.start.asi8, n_s),
                "duration_s": np.tile(self.duration_s, n_s),
            }
        )
        for k, f in enumerate(LIMIT_FIELDS):
            frame[f] = self.limits_w[k].reshape(-1)
        frame["start"] = pd.to_datetime(frame["start"], unit="ns", utc=True).dt.tz_convert(self.start.tz)
        return frame

    @classmethod
    def from_dict(cls, data: dict) -> EnvelopeSet:
        """Rebuild an EnvelopeSet from a CSIP-AUS document such as :meth:`to_dict` output.

        Parameters
        ----------
        data : dict
            The document; limits are decoded with :func:`decode_active_power`.

        Returns
        -------
        EnvelopeSet
        """
        try:
            subjects = tuple(data["subjects"])
            tz = data.get("tz", "UTC")
            controls = data["DERControl"]
            starts = sorted({int(c["interval"]["start"]) for c in controls})
            dur = {int(c["interval"]["start"]): int(c["interval"]["duration"]) for c in controls}
            pos_s = {s: i for i, s in enumerate(subjects)}
            pos_t = {t: j for j, t in enumerate(starts)}
            lim = np.full((4, len(subjects), len(starts)), np.nan)
            for c in controls:
                if "mRID" in c:
                    _check_mrid(c["mRID"])
                i, j = pos_s[c["subject"]], pos_t[int(c["interval"]["start"])]
                for k, f in enumerate(LIMIT_FIELDS):
                    if f in c["DERControlBase"]:
                        lim[k, i, j] = active_power_from_dict(c["DERControlBase"][f], f)
            dflt_base = data.get("DefaultDERControl", {}).get("DERControlBase", {})
            default = {
                f: (active_power_from_dict(dflt_base[f], f) if f in dflt_base else None) for f in LIMIT_FIELDS
            }
            created = data.get("creationTime")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValidationError(
                f"not an envelope document ({exc!r}); expected the output of EnvelopeSet.to_dict"
            ) from exc
        start = pd.to_datetime(starts, unit="s", utc=True).tz_convert(tz)
        return cls(
            subjects=subjects,
            kind=data.get("kind", "site"),
            start=pd.DatetimeIndex(start),
            duration_s=np.array([dur[t] for t in starts], dtype=np.int64),
            limits_w=lim,
            default_w=default,
            created=None if created is None else pd.Timestamp(int(created), unit="s", tz="UTC"),
        )

    @classmethod
    def from_json(cls, text: str) -> EnvelopeSet:
        """Rebuild an EnvelopeSet from :meth:`to_json` text.

        Parameters
        ----------
        text : str
            JSON text.

        Returns
        -------
        EnvelopeSet
        """
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"envelope document is not JSON ({exc})") from None
        return cls.from_dict(data)


def envelopes_from_limits(
    subjects: ArrayLike,
    index: pd.DatetimeIndex,
    export_kw: ArrayLike,
    import_kw: ArrayLike | None = None,
    kind: str = "site",
    default_export_kw: float = STATIC_FLOOR_KW,
    created: pd.Timestamp | None = None,
) -> EnvelopeSet:
    """Envelopes from per-step export (and optionally import) limits in kW, e.g. mediated limits (seed 001
    §2.2).

    Parameters
    ----------
    subjects : array_like of str, shape (n_subjects,)
        Site or node identifiers. [-]
    index : pandas.DatetimeIndex, shape (n_steps,)
        Fixed-step, tz-aware interval starts; each interval lasts one step.
    export_kw : array_like, shape (n_subjects, n_steps)
        Export limit (positive magnitude). [kW]
    import_kw : array_like, shape (n_subjects, n_steps), optional
        Import limit (positive magnitude); not set when omitted. [kW]
    kind : {"site", "node"}
        What the subjects are.
    default_export_kw : float
        Static export limit of the DefaultDERControl. [kW]
    created : pandas.Timestamp, optional
        Creation time (default: the first interval start).

    Returns
    -------
    EnvelopeSet
    """
    from openvpp.timeseries import as_2d, check_index, step_minutes

    check_index(index, "index")
    subj = tuple(str(s) for s in np.atleast_1d(np.asarray(subjects)))
    n_s, n_t = len(subj), len(index)
    exp = as_2d("export_kw", export_kw, n_s, n_t)
    if np.any(exp < 0):
        raise ValidationError("export_kw must be >= 0: limits are magnitudes (kW)")
    lim = np.full((4, n_s, n_t), np.nan)
    lim[0] = kw_to_w(exp)
    if import_kw is not None:
        imp = as_2d("import_kw", import_kw, n_s, n_t)
        if np.any(imp < 0):
            raise ValidationError("import_kw must be >= 0: limits are magnitudes (kW)")
        lim[1] = kw_to_w(imp)
    step_s = round(step_minutes(index) * S_PER_MIN)
    return EnvelopeSet(
        subjects=subj,
        kind=kind,
        start=index,
        duration_s=np.full(n_t, step_s),
        limits_w=lim,
        default_w=_default_limits(float(kw_to_w(default_export_kw))),
        created=created,
    )
