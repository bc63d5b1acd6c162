"""Reserve services as the optimiser sees them: direction, sustained duration, eligible devices, price.

A :class:`ServiceSpec` is one product the plan may commit capacity to. ``direction="up"`` lowers the device
power on activation (raise FCAS, under-frequency CPF+, peak reduction, interruptible load, backup);
``"down"`` raises it (lower FCAS, over-frequency CPF-). ``duration_h`` is how long a full activation must be
sustained; the energy headroom of :mod:`openvpp.schedule.site` is computed for it.

Durations of the NEM contingency FCAS markets (AEMO, Market Ancillary Service Specification v8.0, 2023,
§2.2-2.4): the fast (6 s) service is measured to 60 s, the slow (60 s) service to 5 min and the delayed
(5 min) service to 10 min; regulation follows a 5-min dispatch target. Chile services take their sustained
duration from the catalogue's ``min_delivery_min`` or ``event_duration_h`` (seed 000 §6.1, Table 1).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from openvpp.errors import ValidationError
from openvpp.units import MIN_PER_H

__all__ = ["FCAS_DURATION_H", "ServiceSpec", "catalogue_specs", "fcas_specs"]

#: sustained duration of each NEM FCAS market (AEMO MASS v8.0 §2.2-2.4) [h]
FCAS_DURATION_H: dict[str, float] = {
    "fcas_raise_6s": 1.0 / MIN_PER_H,
    "fcas_lower_6s": 1.0 / MIN_PER_H,
    "fcas_raise_60s": 5.0 / MIN_PER_H,
    "fcas_lower_60s": 5.0 / MIN_PER_H,
    "fcas_raise_5min": 10.0 / MIN_PER_H,
    "fcas_lower_5min": 10.0 / MIN_PER_H,
    "fcas_raise_reg": 5.0 / MIN_PER_H,
    "fcas_lower_reg": 5.0 / MIN_PER_H,
}


@dataclasses.dataclass(frozen=True)
class ServiceSpec:
    """One reserve product offered by the plan.

    Parameters
    ----------
    key : str
        Service key (catalogue or market key).
    direction : {"up", "down"}
        ``up`` = decrease of device power on activation, ``down`` = increase.
    duration_h : float
        Full-duration activation the reserve must sustain (> 0). [h]
    der_classes : tuple of str
        DER classes that may carry it.
    price_per_mw_h : array_like, shape (n_steps,)
        Availability price of each interval (>= 0), currency per MW per hour. [currency/MW/h]
    available : array_like of bool, shape (n_steps,), optional
        Intervals in which the service is procured (its time block); default all.
    """

    key: str
    direction: str
    duration_h: float
    der_classes: tuple[str, ...]
    price_per_mw_h: NDArray[np.float64]
    available: NDArray[np.bool_] | None = None

    def __post_init__(self) -> None:
        if self.direction not in ("up", "down"):
            raise ValidationError(
                f"service {self.key!r}: direction must be 'up' or 'down' (got {self.direction!r})"
            )
        if not np.isfinite(self.duration_h) or self.duration_h <= 0:
            raise ValidationError(f"service {self.key!r}: duration_h must be > 0 h (got {self.duration_h!r})")
        price = np.asarray(self.price_per_mw_h, dtype=float)
        if price.ndim != 1 or not np.all(np.isfinite(price)) or np.any(price < 0):
            raise ValidationError(
                f"service {self.key!r}: price_per_mw_h must be a finite 1-D array >= 0 (availability price); "
                "fill gaps in the price series first"
            )
        object.__setattr__(self, "price_per_mw_h", price)
        avail = np.ones(price.shape, bool) if self.available is None else np.asarray(self.available, bool)
        if avail.shape != price.shape:
            raise ValidationError(f"service {self.key!r}: available must have shape {price.shape}")
        object.__setattr__(self, "available", avail)
        object.__setattr__(self, "der_classes", tuple(self.der_classes))

    @property
    def n_steps(self) -> int:
        """Number of intervals. [-]"""
        return int(self.price_per_mw_h.shape[0])


def fcas_specs(
    prices: Any, markets: Sequence[str] | None = None, der_classes: tuple[str, ...] = ("battery",)
) -> list[ServiceSpec]:
    """Contingency FCAS services from a :class:`~openvpp.services.prices.PriceSeries` (seed 001 §5.4.1).

    Parameters
    ----------
    prices : PriceSeries
        Prices on the plan's axis (``prices.align(index)``), FCAS columns in currency per MW per hour.
    markets : sequence of str, optional
        FCAS market keys; default the six contingency markets present in ``prices``.
    der_classes : tuple of str
        Classes that may carry them (seed 001 Table 7: the battery).

    Returns
    -------
    list of ServiceSpec
    """
    frame: pd.DataFrame = prices.price_per_mwh
    keys = (
        list(markets)
        if markets is not None
        else [k for k in FCAS_DURATION_H if not k.endswith("_reg") and k in frame.columns]
    )
    out = []
    for key in keys:
        if key not in FCAS_DURATION_H:
            raise ValidationError(f"unknown FCAS market {key!r}; known: {sorted(FCAS_DURATION_H)}")
        if key not in frame.columns:
            raise ValidationError(f"the price series has no column {key!r} (it has {list(frame.columns)})")
        out.append(
            ServiceSpec(
                key,
                "up" if "_raise_" in key else "down",
                FCAS_DURATION_H[key],
                der_classes,
                frame[key].to_numpy(float),
            )
        )
    return out


#: direction of the Chile catalogue services (seed 000 Table 1)
CHILE_DIRECTIONS = {
    "cpf_plus": "up",
    "cpf_minus": "down",
    "ci": "up",
    "peak_reduction": "up",
    "resilience": "up",
}


def catalogue_specs(
    catalogue: Any, index: pd.DatetimeIndex, price_per_mw_h: dict[str, float] | None = None
) -> list[ServiceSpec]:
    """Services of a catalogue (e.g. ``services_chile.toml``) on a plan axis, active in their time blocks.

    Parameters
    ----------
    catalogue : ServiceCatalogue
        From :func:`openvpp.services.catalogue.load_catalogue`.
    index : pandas.DatetimeIndex
        Plan axis (interval starts, local time of the market).
    price_per_mw_h : dict of str to float, optional
        Availability price per service (default 0: the allocation is fixed, not priced). [currency/MW/h]

    Returns
    -------
    list of ServiceSpec
    """
    prices = dict(price_per_mw_h or {})
    minutes = index.hour * MIN_PER_H + index.minute
    out = []
    for svc in catalogue.services.values():
        direction = CHILE_DIRECTIONS.get(svc.key)
        if direction is None:
            continue
        h0, m0 = (int(x) for x in svc.block_start.split(":"))
        h1, m1 = (int(x) for x in svc.block_end.split(":"))
        start, end = h0 * MIN_PER_H + m0, h1 * MIN_PER_H + m1
        # an interval belongs to the block when it starts inside it (06:01 starts count from 06:00)
        start = start - (start % 15)
        avail = (minutes >= start) & (minutes < end) & np.isin(index.month, svc.months)
        if svc.days == "working":
            avail &= index.dayofweek < 5
        if svc.event_duration_h:
            dur = float(svc.event_duration_h)
        elif svc.min_delivery_min:
            dur = float(svc.min_delivery_min) / MIN_PER_H
        else:
            dur = svc.block_hours
        out.append(
            ServiceSpec(
                svc.key,
                direction,
                dur,
                tuple(svc.der_classes),
                np.full(len(index), float(prices.get(svc.key, 0.0))),
                np.asarray(avail),
            )
        )
    return out
