"""Forecasts of household load and PV with P10 / P50 / P90 quantiles, and their measured skill.

* :func:`forecast_load` - weekly profile or seasonal naive, quantiles from past residuals;
* :func:`forecast_pv` - pvlib clear sky times a clear-sky index learned from recent days;
* :func:`persistence` - the day-ahead reference;
* :func:`skill` - MAE, RMSE, pinball loss and P10-P90 coverage;
* :func:`~openvpp.forecast.backtest.backtest_simbench` - skill on held-out days of SimBench profiles.

Every result is a :class:`Forecast` with arrays ``(n_sites, n_steps)``; P10 is the 10 % quantile.
"""

from openvpp.forecast.base import QUANTILES, Forecast
from openvpp.forecast.load import forecast_load, persistence
from openvpp.forecast.pv import forecast_pv
from openvpp.forecast.skill import pinball_loss, skill, skill_score

__all__ = [
    "QUANTILES",
    "Forecast",
    "forecast_load",
    "forecast_pv",
    "persistence",
    "pinball_loss",
    "skill",
    "skill_score",
]
