"""Forecast skill: MAE, RMSE, pinball loss over the three quantiles, and P10-P90 coverage.

The pinball (quantile) loss of a quantile forecast ``f_q`` of level ``q`` against the actual ``y`` is
``L_q = max(q (y - f_q), (q - 1) (y - f_q))``; its mean over steps is minimised by the true q-quantile, so
it scores a probabilistic forecast (a perfect point forecast scores 0). :func:`skill` averages it over
q = 0.1, 0.5, 0.9. MAE and RMSE score the P50. Coverage is the share of actual values within
``[P10, P90]`` (0.8 for calibrated quantiles). Skill scores compare with a reference (persistence):
``1 - metric / metric_reference``, positive when better.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from openvpp.errors import ValidationError
from openvpp.forecast.base import QUANTILES, Forecast
from openvpp.timeseries import as_2d

__all__ = ["METRICS", "pinball_loss", "skill", "skill_score"]

#: metric columns of :func:`skill` (all in kW except coverage, a fraction)
METRICS = ("mae_kw", "rmse_kw", "pinball_kw", "coverage_p10_p90")


def pinball_loss(actual_kw: ArrayLike, forecast_kw: ArrayLike, q: float) -> np.ndarray:
    """Pinball (quantile) loss of a forecast of quantile level ``q``, element-wise.

    Parameters
    ----------
    actual_kw : array_like
        Observed values. [kW]
    forecast_kw : array_like
        Forecast of the ``q`` quantile, broadcastable to ``actual_kw``. [kW]
    q : float
        Quantile level in (0, 1). [-]

    Returns
    -------
    numpy.ndarray
        ``max(q (y - f), (q - 1) (y - f))``, non-negative. [kW]
    """
    if not 0.0 < float(q) < 1.0:
        raise ValidationError(f"q must be a quantile level in (0, 1) (got {q!r})")
    diff = np.asarray(actual_kw, dtype=float) - np.asarray(forecast_kw, dtype=float)
    return np.maximum(q * diff, (q - 1.0) * diff)


def skill(forecast: Forecast, actual_kw: ArrayLike, mask: ArrayLike | None = None) -> pd.DataFrame:
    """Error metrics of a forecast against what happened, per site and over all sites.

    Parameters
    ----------
    forecast : Forecast
        The forecast, shape (n_sites, n_steps).
    actual_kw : array_like, shape (n_sites, n_steps) or (n_steps,) for one site
        Observed mean power over the horizon, in the forecast's convention. [kW]
    mask : array_like of bool, shape (n_sites, n_steps) or (n_steps,), optional
        Steps to score (default all). For PV, score daylight steps only: at night every forecast and the
        actual are zero, which would inflate coverage and shrink the errors. [-]

    Returns
    -------
    pandas.DataFrame
        Indexed by site id plus a last row ``"all"`` pooled over every scored site and step (NaN where a site
        has no scored step); columns ``mae_kw``,
        ``rmse_kw`` (of P50), ``pinball_kw`` (mean over the three quantiles), ``coverage_p10_p90`` (share of
        actuals within [P10, P90], [-]), ``mean_actual_kw``. [kW]
    """
    if not isinstance(forecast, Forecast):
        raise ValidationError(f"forecast must be a Forecast (got {type(forecast).__name__})")
    y_in = np.atleast_2d(np.asarray(actual_kw, dtype=float))
    y = as_2d("actual_kw", y_in, forecast.n_sites, forecast.n_steps)
    if mask is None:
        w = np.ones(y.shape)
    else:
        m = np.asarray(mask)
        if m.dtype != bool or m.shape not in (y.shape, (y.shape[1],)):
            raise ValidationError(
                f"mask must be booleans shaped {y.shape} or ({y.shape[1]},) (got {m.dtype} {m.shape})"
            )
        w = np.broadcast_to(m, y.shape).astype(float)
    err = y - forecast.p50_kw
    pin = np.mean([pinball_loss(y, forecast.quantile(q), q) for q in QUANTILES], axis=0)
    inside = ((y >= forecast.p10_kw) & (y <= forecast.p90_kw)).astype(float)

    def mean(x: np.ndarray, axis: int | None) -> np.ndarray:
        n = w.sum(axis=axis)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(np.where(n > 0, (x * w).sum(axis=axis) / n, np.nan))

    def table(axis: int | None, index: pd.Index) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "mae_kw": np.atleast_1d(mean(np.abs(err), axis)),
                "rmse_kw": np.atleast_1d(np.sqrt(mean(err**2, axis))),
                "pinball_kw": np.atleast_1d(mean(pin, axis)),
                "coverage_p10_p90": np.atleast_1d(mean(inside, axis)),
                "mean_actual_kw": np.atleast_1d(mean(y, axis)),
            },
            index=index,
        )

    per_site = table(1, pd.Index(forecast.site_ids, name="site_id"))
    pooled = table(None, pd.Index(["all"], name="site_id"))
    return pd.concat([per_site, pooled])


def skill_score(metric: ArrayLike, reference: ArrayLike) -> np.ndarray:
    """Skill score ``1 - metric / reference`` (positive when better than the reference, 1 when perfect).

    Parameters
    ----------
    metric : array_like
        Error of the forecast (MAE, RMSE or pinball loss). [kW]
    reference : array_like
        The same error of the reference forecast (e.g. persistence). [kW]

    Returns
    -------
    numpy.ndarray
        Skill score, NaN where the reference error is zero. [-]
    """
    m = np.asarray(metric, dtype=float)
    r = np.asarray(reference, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(r > 0, 1.0 - m / r, np.nan)
