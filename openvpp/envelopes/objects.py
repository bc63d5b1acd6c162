"""Operating envelopes the platform can publish, in the CSIP-AUS / IEEE 2030.5 DERControl sense.

An :class:`EnvelopeSet` holds, for a set of subjects (sites or constraint nodes) and a sequence of intervals
(start, duration), four optional limits of a DERControl base:

* ``opModExpLimW``  -- largest export at the connection point [W]
* ``opModImpLimW``  -- largest import at the connection point [W]
* ``opModGenLimW``  -- largest generation of the DER [W]
* ``opModLoadLimW`` -- largest load of the DER [W]

All limits are non-negative magnitudes in W (CSIP-AUS ActivePower with multiplier 0); NaN means "not set".
When no interval is valid at a time (before, between or after the envelopes, or a limit left unset) the
*default* DERControl applies -- the static export limit the seed's fallback rule reverts to (seed 001 §2.1:
a VPP that cannot reach the API falls back to the static 5 kW limit).

The JSON form mirrors CSIP-AUS: a list of ``DERControl`` objects ``{"mRID", "subject", "interval": {"start":
unix s, "duration": s}, "DERControlBase": {"opModExpLimW": {"value": W, "multiplier": 0}, ...}}`` and a
``DefaultDERControl``.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from openvpp.envelopes.engine import STATIC_FLOOR_KW
from openvpp.errors import ValidationError

#: the four DERControl limits, in this order in :attr:`EnvelopeSet.limits_w`
LIMIT_FIELDS: tuple[str, ...] = ("opModExpLimW", "opModImpLimW", "opModGenLimW", "opModLoadLimW")


def _default_limits(export_w: float | None = STATIC_FLOOR_KW * 1000.0) -> dict[str, float | None]:
    return {"opModExpLimW": export_w, "opModImpLimW": None, "opModGenLimW": None, "opModLoadLimW": None}


@dataclasses.dataclass(frozen=True, eq=False)
class EnvelopeSet:
    """Envelopes for ``n_subjects`` sites or constraint nodes over ``n_intervals`` intervals.

    Attributes
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
    """

    subjects: tuple[str, ...]
    kind: str
    start: pd.DatetimeIndex
    duration_s: NDArray[np.int64]
    limits_w: NDArray[np.float64]
    default_w: dict = dataclasses.field(default_factory=_default_limits)

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
            ends = self.start.asi8[:-1] // 10**9 + dur[:-1]
            if np.any(np.diff(self.start.asi8) <= 0) or np.any(ends > self.start.asi8[1:] // 10**9):
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
        object.__setattr__(self, "limits_w", lim)
        object.__setattr__(self, "duration_s", dur.astype(np.int64))

    @property
    def n_subjects(self) -> int:
        return len(self.subjects)

    @property
    def n_intervals(self) -> int:
        return len(self.start)

    def _default_vector(self) -> NDArray[np.float64]:
        return np.array(
            [np.nan if self.default_w.get(f) is None else float(self.default_w[f]) for f in LIMIT_FIELDS]
        )

    def active_limits_w(self, when: object) -> dict[str, NDArray[np.float64]]:
        """Limits in force for every subject at time ``when``; the default where no envelope is valid.

        Returns
        -------
        dict of numpy.ndarray, shape (n_subjects,)
            One array per DERControl field; NaN means no limit at all. [W]
        """
        ts = pd.Timestamp(when)
        if ts.tzinfo is None:
            raise ValidationError(
                f"when must be tz-aware (got {when!r}); localise it to the envelopes' time zone"
            )
        t_s = ts.value // 10**9
        starts = self.start.asi8 // 10**9
        j = int(np.searchsorted(starts, t_s, side="right")) - 1
        dflt = self._default_vector()
        if j < 0 or t_s >= starts[j] + self.duration_s[j]:
            vals = np.broadcast_to(dflt[:, None], (4, self.n_subjects))
        else:
            cur = self.limits_w[:, :, j]
            vals = np.where(np.isnan(cur), dflt[:, None], cur)
        return {f: np.array(vals[k]) for k, f in enumerate(LIMIT_FIELDS)}

    def to_dict(self) -> dict:
        """CSIP-AUS-like plain dict (see the module docstring)."""
        controls = []
        starts = (self.start.asi8 // 10**9).tolist()
        for si, subj in enumerate(self.subjects):
            for j in range(self.n_intervals):
                base = {}
                for k, f in enumerate(LIMIT_FIELDS):
                    v = self.limits_w[k, si, j]
                    if not np.isnan(v):
                        base[f] = {"value": float(v), "multiplier": 0}
                controls.append(
                    {
                        "mRID": f"{subj}:{starts[j]}",
                        "subject": subj,
                        "interval": {"start": starts[j], "duration": int(self.duration_s[j])},
                        "DERControlBase": base,
                    }
                )
        default = {
            f: {"value": float(v), "multiplier": 0} for f, v in self.default_w.items() if v is not None
        }
        return {
            "kind": self.kind,
            "tz": str(self.start.tz),
            "subjects": list(self.subjects),
            "DERControl": controls,
            "DefaultDERControl": {"DERControlBase": default},
        }

    def to_json(self, **kwargs: Any) -> str:
        """JSON text of :meth:`to_dict` (``kwargs`` are passed to :func:`json.dumps`)."""
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, data: dict) -> EnvelopeSet:
        """Rebuild an EnvelopeSet from :meth:`to_dict` output."""
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
                i, j = pos_s[c["subject"]], pos_t[int(c["interval"]["start"])]
                for k, f in enumerate(LIMIT_FIELDS):
                    if f in c["DERControlBase"]:
                        v = c["DERControlBase"][f]
                        lim[k, i, j] = float(v["value"]) * 10.0 ** int(v.get("multiplier", 0))
            dflt_base = data.get("DefaultDERControl", {}).get("DERControlBase", {})
            default = {
                f: (
                    float(dflt_base[f]["value"]) * 10.0 ** int(dflt_base[f].get("multiplier", 0))
                    if f in dflt_base
                    else None
                )
                for f in LIMIT_FIELDS
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(
                f"not an envelope document ({exc!r}); expected the output of EnvelopeSet.to_dict"
            ) from exc
        start = pd.to_datetime(starts, unit="s", utc=True).tz_convert(tz)
        return cls(
            subjects=subjects,
            kind=data.get("kind", "site"),
            start=pd.DatetimeIndex(start),
            duration_s=np.array([dur[t] for t in starts]),
            limits_w=lim,
            default_w=default,
        )

    @classmethod
    def from_json(cls, text: str) -> EnvelopeSet:
        """Rebuild an EnvelopeSet from :meth:`to_json` text."""
        return cls.from_dict(json.loads(text))


def envelopes_from_limits(
    subjects: ArrayLike,
    index: pd.DatetimeIndex,
    export_kw: ArrayLike,
    import_kw: ArrayLike | None = None,
    kind: str = "site",
    default_export_kw: float = STATIC_FLOOR_KW,
) -> EnvelopeSet:
    """Envelopes from per-step export (and optionally import) limits in kW, e.g. mediated limits.

    Parameters
    ----------
    subjects : array_like of str, shape (n_subjects,)
        Site or node identifiers.
    index : pandas.DatetimeIndex, shape (n_steps,)
        Fixed-step, tz-aware interval starts; each interval lasts one step.
    export_kw : array_like, shape (n_subjects, n_steps)
        Export limit (positive magnitude). [kW]
    import_kw : array_like, shape (n_subjects, n_steps), optional
        Import limit (positive magnitude); not set when omitted. [kW]
    kind : {"site", "node"}
    default_export_kw : float
        Static export limit of the DefaultDERControl. [kW]

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
    lim[0] = exp * 1000.0
    if import_kw is not None:
        imp = as_2d("import_kw", import_kw, n_s, n_t)
        if np.any(imp < 0):
            raise ValidationError("import_kw must be >= 0: limits are magnitudes (kW)")
        lim[1] = imp * 1000.0
    step_s = round(step_minutes(index) * 60)
    return EnvelopeSet(
        subjects=subj,
        kind=kind,
        start=index,
        duration_s=np.full(n_t, step_s),
        limits_w=lim,
        default_w=_default_limits(default_export_kw * 1000.0),
    )
