"""Baseline eligibility: how well a site's baseline predicts its own load on days without events.

A baseline may settle a site only if it is accurate enough where the truth is known: on non-event days, the
baseline computed as if an event had been called is compared with the metered load over the same window.
Two metrics are used, as in AEMO's wholesale demand response mechanism (WDRM) baseline eligibility policy:
the relative root-mean-square error (accuracy) and the relative mean error (bias),

    RRMSE = sqrt(mean((b - a)^2)) / mean(a),     bias = mean(b - a) / mean(a),

over every step of every test window. AEMO uses 20 % for the accuracy threshold; the bias threshold is a
parameter (5 % by default, an assumption: seed 000 §4 asks for baselines but gives no thresholds). The
portfolio is tested the same way on the sum of its sites. Sites whose mean load over the windows is not
positive (net exporters) have no relative metric and are reported ineligible with that reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from openvpp.errors import ValidationError
from openvpp.settlement.baselines import day_of_adjustment, x_of_y_baseline

__all__ = ["EligibilityReport", "accuracy_metrics", "baseline_eligibility"]


def accuracy_metrics(baseline_kw: np.ndarray, actual_kw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Relative RMSE and relative bias of a baseline against metered load, per site (AEMO WDRM metrics).

    Parameters
    ----------
    baseline_kw : numpy.ndarray, shape (n_sites, n_samples)
        Baseline at every step of every test window. [kW]
    actual_kw : numpy.ndarray, shape (n_sites, n_samples)
        Metered load at the same steps, load convention. [kW]

    Returns
    -------
    (rrmse, bias) : tuple of numpy.ndarray, shape (n_sites,)
        ``sqrt(mean((b-a)^2)) / mean(a)`` and ``mean(b-a) / mean(a)``; NaN where ``mean(a) <= 0``. [-]
    """
    b = np.asarray(baseline_kw, dtype=np.float64)
    a = np.asarray(actual_kw, dtype=np.float64)
    if b.shape != a.shape or b.ndim != 2:
        raise ValidationError(f"baseline and actual must share a 2-D shape (got {b.shape} and {a.shape})")
    mean_a = a.mean(axis=1)
    err = b - a
    pos = mean_a > 0
    denom = np.where(pos, mean_a, 1.0)
    rrmse = np.where(pos, np.sqrt((err**2).mean(axis=1)) / denom, np.nan)
    bias = np.where(pos, err.mean(axis=1) / denom, np.nan)
    return rrmse, bias


@dataclasses.dataclass(frozen=True)
class EligibilityReport:
    """Who may be settled with the baseline: metrics and verdict per site and for the portfolio.

    Attributes
    ----------
    sites : pandas.DataFrame
        One row per site: site_id, n_test_days, rrmse, bias, eligible, reason.
    portfolio : dict
        rrmse, bias, eligible for the sum of all sites.
    max_rrmse, max_abs_bias : float
        Thresholds applied. [-]
    """

    sites: pd.DataFrame
    portfolio: dict[str, Any]
    max_rrmse: float
    max_abs_bias: float

    @property
    def n_eligible(self) -> int:
        """Number of eligible sites. [-]"""
        return int(self.sites["eligible"].sum())

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (NaN as None)."""
        rows = self.sites.astype(object).where(self.sites.notna(), None).to_dict(orient="records")
        port = {
            k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in self.portfolio.items()
        }
        return {
            "max_rrmse": self.max_rrmse,
            "max_abs_bias": self.max_abs_bias,
            "n_eligible": self.n_eligible,
            "portfolio": port,
            "sites": rows,
        }


def _verdict(
    rrmse: np.ndarray, bias: np.ndarray, max_rrmse: float, max_abs_bias: float, n_days: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    ok = (rrmse <= max_rrmse) & (np.abs(bias) <= max_abs_bias) & (n_days > 0)
    reasons = np.where(
        n_days == 0,
        "no test day with a full baseline",
        np.where(
            np.isnan(rrmse),
            "mean load not positive (no relative metric)",
            np.where(
                rrmse > max_rrmse,
                "accuracy (RRMSE) above threshold",
                np.where(np.abs(bias) > max_abs_bias, "bias above threshold", ""),
            ),
        ),
    )
    return ok, reasons.tolist()


def baseline_eligibility(
    days_kw: np.ndarray,
    business: np.ndarray,
    excluded: np.ndarray,
    test_days: Sequence[int],
    window: slice,
    site_ids: Sequence[str],
    *,
    x: int = 10,
    y: int = 10,
    x_nonbusiness: int = 4,
    y_nonbusiness: int = 4,
    lookback_days: int = 45,
    adjustment: Literal["ratio", "additive", "none"] = "ratio",
    adjustment_window: slice | None = None,
    cap: tuple[float, float] = (0.8, 1.2),
    max_rrmse: float = 0.2,
    max_abs_bias: float = 0.05,
) -> EligibilityReport:
    """Baseline accuracy on non-event days and the eligibility verdict per site and portfolio (AEMO WDRM).

    For every test day the X-of-Y baseline (and its day-of adjustment) is computed as if an event covered
    ``window``; errors against the metered load over ``window`` are pooled over the test days.

    Parameters
    ----------
    days_kw : numpy.ndarray, shape (n_sites, n_days, steps_per_day)
        History (:func:`~openvpp.settlement.baselines.day_matrix`), load convention. [kW]
    business : numpy.ndarray of bool, shape (n_days,)
        Business-day flags. [-]
    excluded : numpy.ndarray of bool, shape (n_sites, n_days)
        Event and flagged days; never used as test days or as baseline days. [-]
    test_days : sequence of int
        Candidate test days (positions); per site, excluded ones are skipped. [-]
    window : slice
        Steps of the day tested (e.g. the usual event window).
    site_ids : sequence of str
        Names of the sites, for the report.
    x, y, x_nonbusiness, y_nonbusiness : int
        X-of-Y for business and non-business days. [-]
    lookback_days : int
        Candidate window. [-]
    adjustment : {"ratio", "additive", "none"}
        Day-of adjustment method.
    adjustment_window : slice, optional
        Steps of the adjustment window (required unless ``adjustment == "none"``).
    cap : (float, float)
        Adjustment cap. [-]
    max_rrmse, max_abs_bias : float
        Thresholds (AEMO WDRM accuracy 20 %; bias threshold is a parameter). [-]

    Returns
    -------
    EligibilityReport
    """
    n_sites, _, spd = days_kw.shape
    if len(site_ids) != n_sites:
        raise ValidationError(f"site_ids has {len(site_ids)} names for {n_sites} sites")
    if not (max_rrmse > 0 and max_abs_bias > 0):
        raise ValidationError(f"eligibility thresholds must be > 0 (got {max_rrmse}, {max_abs_bias})")
    if adjustment != "none" and adjustment_window is None:
        raise ValidationError("adjustment_window is required for a day-of adjustment")
    lo_step = min(window.start or 0, adjustment_window.start or 0) if adjustment_window else window.start or 0
    hi_step = window.stop if window.stop is not None else spd
    span = slice(lo_step, hi_step)
    win_rel = slice((window.start or 0) - lo_step, hi_step - lo_step)
    adj_rel = (
        slice(adjustment_window.start - lo_step, adjustment_window.stop - lo_step)
        if adjustment_window is not None and adjustment != "none"
        else None
    )
    bus = np.asarray(business, bool)
    sq = np.zeros(n_sites)
    se = np.zeros(n_sites)
    sa = np.zeros(n_sites)
    cnt = np.zeros(n_sites)
    days_used = np.zeros(n_sites, np.int64)
    port_b: list[np.ndarray] = []
    port_a: list[np.ndarray] = []
    for d in test_days:
        xx, yy = (x, y) if bus[d] else (x_nonbusiness, y_nonbusiness)
        base = x_of_y_baseline(
            days_kw, d, bus, excluded, x=xx, y=yy, lookback_days=lookback_days, rank_steps=window, steps=span
        )
        actual = np.asarray(days_kw[:, d, span], dtype=np.float64)
        b = base.p_kw.astype(np.float64)
        if adj_rel is not None:
            b = day_of_adjustment(b, actual, adj_rel, adjustment, cap).p_kw
        use = ~excluded[:, d] & np.isfinite(b).all(axis=1) & np.isfinite(actual).all(axis=1)
        bw, aw = b[:, win_rel], actual[:, win_rel]
        err = np.where(use[:, None], bw - aw, 0.0)
        sq += (err**2).sum(axis=1)
        se += err.sum(axis=1)
        sa += np.where(use[:, None], aw, 0.0).sum(axis=1)
        cnt += use * aw.shape[1]
        days_used += use
        if use.all():
            port_b.append(bw.sum(axis=0))
            port_a.append(aw.sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_a = sa / cnt
        pos = mean_a > 0
        rrmse = np.where(pos, np.sqrt(sq / cnt) / np.where(pos, mean_a, 1.0), np.nan)
        bias = np.where(pos, (se / cnt) / np.where(pos, mean_a, 1.0), np.nan)
    ok, reasons = _verdict(rrmse, bias, max_rrmse, max_abs_bias, days_used)
    sites = pd.DataFrame(
        {
            "site_id": list(site_ids),
            "n_test_days": days_used,
            "rrmse": rrmse,
            "bias": bias,
            "eligible": ok,
            "reason": reasons,
        }
    )
    if port_b:
        pr, pb = accuracy_metrics(np.concatenate(port_b)[None, :], np.concatenate(port_a)[None, :])
        p_ok, p_reason = _verdict(pr, pb, max_rrmse, max_abs_bias, np.array([len(port_b)]))
        portfolio = {
            "n_test_days": len(port_b),
            "rrmse": float(pr[0]),
            "bias": float(pb[0]),
            "eligible": bool(p_ok[0]),
            "reason": p_reason[0],
        }
    else:
        portfolio = {
            "n_test_days": 0,
            "rrmse": float("nan"),
            "bias": float("nan"),
            "eligible": False,
            "reason": "no test day where every site has a full baseline",
        }
    return EligibilityReport(
        sites=sites, portfolio=portfolio, max_rrmse=float(max_rrmse), max_abs_bias=float(max_abs_bias)
    )
