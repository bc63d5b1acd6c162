"""Set-point disaggregation: split an aggregate power request across devices, vectorised.

Each device ``i`` starts from a reference power ``p_ref`` (its plan) and may move within a window built from,
in this order (the order used to name the reason of a shortfall):

1. ``device``: its feasible power this step from the device model (:meth:`openvpp.der.battery.Battery.
   power_range` and the like);
2. ``soc``: the power it can hold for ``hold_h`` without leaving its SoC window (plan's
   ``soc_min``/``soc_max``);
3. ``reserved``: capacity reserved for other services is kept free (``reserved_up_kw`` below,
   ``reserved_down_kw``
   above);
4. ``envelope``: the site's power (plan site power plus the devices' moves) stays within
   ``[-export_limit_kw, import_limit_kw]``; each site's headroom is shared pro rata among its devices, so any
   move inside the device windows keeps the site inside its envelope.

The request (the change ``delta_kw`` of the aggregate against the sum of the references, load convention) is
then split by one of three strategies: ``headroom`` (proportional to each device's headroom in the requested
direction: every device reaches the same share of its range), ``soc`` (SoC balancing: proportional to headroom
times the state of charge when reducing power and times ``1 - soc`` when increasing, water-filled so that no
device exceeds its headroom) and ``merit`` (cheapest first by ``cost_usd_per_kwh``; devices of equal cost
share pro rata). Results do not depend on the order of the devices. Seed 000 §9 (coordinated control of the
pilot), seed 003 §2 (per-device power range as the flexibility metric pi).
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openvpp.errors import ValidationError

__all__ = ["REASONS", "STRATEGIES", "Dispatch", "disaggregate", "soc_power_window"]

STRATEGIES = ("headroom", "soc", "merit")
#: shortfall reasons, in the order the windows are applied
REASONS = ("", "device", "soc", "reserved", "envelope")
#: the largest fleet one call accepts
MAX_DEVICES = 5_000_000


@dataclasses.dataclass(frozen=True)
class Dispatch:
    """Result of :func:`disaggregate`.

    Attributes
    ----------
    p_kw : numpy.ndarray, shape (n_devices,)
        Set-point per device, load convention. [kW]
    target_kw : float
        Requested aggregate (sum of references + delta). [kW]
    achieved_kw : float
        Sum of ``p_kw``. [kW]
    shortfall_kw : float
        ``target_kw - achieved_kw`` (0 when met). [kW]
    reason : str
        Empty when met, else the first window (``device``, ``soc``, ``reserved``, ``envelope``) whose summed
        headroom fell short of the request.
    q_kvar : numpy.ndarray, optional
        Reactive set-point per device. [kvar]
    """

    p_kw: NDArray[np.float64]
    target_kw: float
    achieved_kw: float
    shortfall_kw: float
    reason: str
    q_kvar: NDArray[np.float64] | None = None


def _vec(name: str, x: ArrayLike | None, n: int, default: float, nan_ok: bool = False) -> NDArray[np.float64]:
    """One value per device, or a 0-d array (broadcast) for a scalar or the default."""
    if x is None:
        return np.asarray(default, dtype=float)
    a = np.asarray(x, dtype=float)
    if a.ndim == 0:
        if not nan_ok and np.isnan(a):
            raise ValidationError(f"{name} is NaN")
        return a
    if a.shape != (n,):
        raise ValidationError(f"{name} must have one value per device ({n}); got shape {a.shape}")
    if not nan_ok and np.isnan(a).any():
        raise ValidationError(f"{name} has NaN at device position {int(np.argmax(np.isnan(a)))}")
    return a


def soc_power_window(
    soc: ArrayLike,
    soc_min: ArrayLike,
    soc_max: ArrayLike,
    e_max_kwh: ArrayLike,
    hold_h: float,
    eta_charge: ArrayLike = 1.0,
    eta_discharge: ArrayLike = 1.0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Power a storage device can hold for ``hold_h`` without leaving its SoC window (eq. (9) of seed 000
    §7.1.1 solved for constant power).

    Parameters
    ----------
    soc, soc_min, soc_max : array_like, shape (n_devices,)
        Present state of charge and its window; NaN ``soc`` = no storage (unbounded). [-]
    e_max_kwh : array_like, shape (n_devices,)
        Usable capacity. [kWh]
    hold_h : float
        How long the power must be sustainable. [h]
    eta_charge, eta_discharge : array_like
        One-way efficiencies. [-]

    Returns
    -------
    (p_lo_kw, p_hi_kw) : tuple of numpy.ndarray
        Deepest discharge (<= 0) and largest charge (>= 0); infinite for devices without storage. [kW]
    """
    if not hold_h > 0:
        raise ValidationError(f"hold_h must be > 0 hours (got {hold_h})")
    soc_a = np.asarray(soc, dtype=float)
    e = np.asarray(e_max_kwh, dtype=float)
    hi = np.maximum(np.asarray(soc_max, dtype=float) - soc_a, 0.0) * e / (np.asarray(eta_charge) * hold_h)
    lo = -np.maximum(soc_a - np.asarray(soc_min, dtype=float), 0.0) * e * np.asarray(eta_discharge) / hold_h
    none = np.isnan(soc_a)
    return np.where(none, -np.inf, lo), np.where(none, np.inf, hi)


def _water_fill(amount: float, head: NDArray[np.float64], weight: NDArray[np.float64]) -> NDArray[np.float64]:
    """``x_i = min(head_i, lam * weight_i)`` with ``sum x = amount`` (0 <= amount <= sum head)."""
    if amount <= 0:
        return np.zeros_like(head)
    # every device with headroom keeps a small positive weight (no division by ~0, no idle device)
    w = np.where(head > 0, np.maximum(weight, 1e-6), 0.0)
    use = w > 0
    bp = np.where(use, head / np.where(use, w, 1.0), np.inf)
    order = np.argsort(bp[use], kind="stable")
    bps = bp[use][order]
    hs = head[use][order]
    ws = w[use][order]
    # filled(lam_k) = sum_{j<=k} head_j + lam_k * sum_{j>k} w_j at breakpoint k
    cum_h = np.cumsum(hs)
    tail_w = np.concatenate([np.cumsum(ws[::-1])[::-1][1:], [0.0]])
    filled = cum_h + bps * tail_w
    k = int(np.searchsorted(filled, amount))
    if k == 0:
        lam = amount / ws.sum()
    else:
        lam = (amount - cum_h[k - 1]) / max(tail_w[k - 1], 1e-300)
    return np.minimum(head, lam * w)


def _merit_fill(amount: float, head: NDArray[np.float64], cost: NDArray[np.float64]) -> NDArray[np.float64]:
    """Cheapest first; equal costs share pro rata (so the result is independent of the device order)."""
    if amount <= 0:
        return np.zeros_like(head)
    levels, inv = np.unique(cost, return_inverse=True)
    level_head = np.bincount(inv, weights=head, minlength=levels.size)
    before = np.concatenate([[0.0], np.cumsum(level_head)[:-1]])
    take = np.clip(amount - before, 0.0, level_head)
    share = np.divide(take, level_head, out=np.zeros_like(take), where=level_head > 0)
    return head * share[inv]


def disaggregate(
    delta_kw: float,
    p_ref_kw: ArrayLike,
    p_min_kw: ArrayLike,
    p_max_kw: ArrayLike,
    *,
    strategy: Literal["headroom", "soc", "merit"] = "headroom",
    soc: ArrayLike | None = None,
    soc_min: ArrayLike | None = None,
    soc_max: ArrayLike | None = None,
    e_max_kwh: ArrayLike | None = None,
    hold_h: float = 0.25,
    reserved_up_kw: ArrayLike | None = None,
    reserved_down_kw: ArrayLike | None = None,
    site_of_device: ArrayLike | None = None,
    site_p_kw: ArrayLike | None = None,
    site_export_limit_kw: ArrayLike | None = None,
    site_import_limit_kw: ArrayLike | None = None,
    cost_usd_per_kwh: ArrayLike | None = None,
    q_kvar: float | None = None,
    s_max_kva: ArrayLike | None = None,
    tol_kw: float = 1e-9,
) -> Dispatch:
    """Split a change ``delta_kw`` of the aggregate power across devices within their windows.

    See the module docstring for the windows and strategies.

    Parameters
    ----------
    delta_kw : float
        Requested change of the aggregate against ``sum(p_ref_kw)``, load convention (< 0: less
        consumption / more export). [kW]
    p_ref_kw : array_like, shape (n_devices,)
        Reference power (the plan), load convention. [kW]
    p_min_kw, p_max_kw : array_like, shape (n_devices,)
        Device-model window this step (``p_min_kw <= p_max_kw``). [kW]
    strategy : {"headroom", "soc", "merit"}
        How the request is split.
    soc, soc_min, soc_max : array_like, shape (n_devices,), optional
        State of charge and its window (NaN ``soc`` for devices without storage). [-]
    e_max_kwh : array_like, shape (n_devices,), optional
        Storage capacity (needed with ``soc``). [kWh]
    hold_h : float
        How long the new power must be sustainable within the SoC window. [h]
    reserved_up_kw, reserved_down_kw : array_like, shape (n_devices,), optional
        Capacity reserved for other services: room to decrease / increase power kept free (>= 0). [kW]
    site_of_device : array_like of int, shape (n_devices,), optional
        Site position of each device (needed with the site arrays). [-]
    site_p_kw : array_like, shape (n_sites,), optional
        Site power at the references (plan), load convention. [kW]
    site_export_limit_kw, site_import_limit_kw : array_like, shape (n_sites,), optional
        Site envelope magnitudes (>= 0; ``inf`` = none). [kW]
    cost_usd_per_kwh : array_like, shape (n_devices,), optional
        Cost of moving each device (``merit``). [USD/kWh]
    q_kvar : float, optional
        Aggregate reactive request (split pro rata to each inverter's reactive headroom). [kvar]
    s_max_kva : array_like, shape (n_devices,), optional
        Inverter ratings for the reactive split. [kVA]
    tol_kw : float
        Shortfalls below this count as met. [kW]

    Returns
    -------
    Dispatch
        Set-points, achieved aggregate and the shortfall with its reason.
    """
    p_ref = np.asarray(p_ref_kw, dtype=float)
    if p_ref.ndim != 1:
        raise ValidationError(f"p_ref_kw must be 1-D, one value per device (got shape {p_ref.shape})")
    n = p_ref.size
    if n > MAX_DEVICES:
        raise ValidationError(f"disaggregate accepts at most {MAX_DEVICES} devices (got {n})")
    if not np.isfinite(delta_kw):
        raise ValidationError(f"delta_kw must be finite (got {delta_kw})")
    if strategy not in STRATEGIES:
        raise ValidationError(f"strategy must be one of {STRATEGIES} (got {strategy!r})")
    if np.any(~np.isfinite(p_ref)):
        raise ValidationError("p_ref_kw must be finite")
    lo = np.broadcast_to(_vec("p_min_kw", p_min_kw, n, -np.inf), (n,))
    hi = np.broadcast_to(_vec("p_max_kw", p_max_kw, n, np.inf), (n,))
    if np.any(lo > hi):
        bad = int(np.argmax(lo > hi))
        raise ValidationError(f"p_min_kw > p_max_kw at device position {bad} ({lo[bad]} > {hi[bad]})")
    p0 = np.clip(p_ref, lo, hi)
    delta_eff = float(p_ref.sum() + delta_kw - p0.sum())
    up = delta_eff > 0
    # successive windows: headroom in the requested direction after each
    heads: list[NDArray[np.float64]] = []
    head = np.maximum(hi - p0, 0.0) if up else np.maximum(p0 - lo, 0.0)
    heads.append(head)
    soc_a = None
    if soc is not None:
        if e_max_kwh is None:
            raise ValidationError("e_max_kwh is needed with soc")
        soc_a = _vec("soc", soc, n, np.nan, nan_ok=True)
        s_lo, s_hi = soc_power_window(
            soc_a,
            _vec("soc_min", soc_min, n, 0.0, nan_ok=True),
            _vec("soc_max", soc_max, n, 1.0, nan_ok=True),
            _vec("e_max_kwh", e_max_kwh, n, 1.0, nan_ok=True),
            hold_h,
        )
        head = np.minimum(head, np.maximum(s_hi - p0, 0.0) if up else np.maximum(p0 - s_lo, 0.0))
    heads.append(head)
    r_up = _vec("reserved_up_kw", reserved_up_kw, n, 0.0)
    r_dn = _vec("reserved_down_kw", reserved_down_kw, n, 0.0)
    if np.any(r_up < 0) or np.any(r_dn < 0):
        raise ValidationError("reserved_up_kw and reserved_down_kw must be >= 0 kW")
    head = (
        np.minimum(head, np.maximum(hi - r_dn - p0, 0.0))
        if up
        else np.minimum(head, np.maximum(p0 - lo - r_up, 0.0))
    )
    heads.append(head)
    if site_of_device is not None and site_p_kw is not None:
        site = np.asarray(site_of_device, dtype=np.int64)
        sp = np.asarray(site_p_kw, dtype=float)
        if site.shape != (n,) or np.any(site < 0) or np.any(site >= sp.size):
            raise ValidationError(f"site_of_device must give a site position in [0, {sp.size}) per device")
        ns = sp.size
        exp_lim = _vec("site_export_limit_kw", site_export_limit_kw, ns, np.inf)
        imp_lim = _vec("site_import_limit_kw", site_import_limit_kw, ns, np.inf)
        if np.any(exp_lim < 0) or np.any(imp_lim < 0):
            raise ValidationError("site_export_limit_kw and site_import_limit_kw are magnitudes >= 0 kW")
        # move of the site caused by clipping the references into their windows
        shift = np.bincount(site, weights=p0 - p_ref, minlength=ns)
        room = np.maximum(imp_lim - (sp + shift), 0.0) if up else np.maximum(sp + shift + exp_lim, 0.0)
        total = np.bincount(site, weights=head, minlength=ns)
        scale = np.divide(room, total, out=np.ones(ns), where=total > room)
        head = head * np.minimum(scale, 1.0)[site]
    heads.append(head)
    amount = abs(delta_eff)
    avail = float(head.sum())
    take = min(amount, avail)
    if strategy == "headroom":
        move = head * (take / avail) if avail > 0 else np.zeros(n)
    elif strategy == "soc":
        s = np.broadcast_to(np.nan_to_num(soc_a, nan=0.5) if soc_a is not None else np.asarray(0.5), (n,))
        move = _water_fill(take, head, (1.0 - s) if up else s)
    else:
        cost = np.broadcast_to(_vec("cost_usd_per_kwh", cost_usd_per_kwh, n, 0.0), (n,))
        move = _merit_fill(take, head, cost)
    p = p0 + move if up else p0 - move
    # exact bounds despite rounding
    p = np.clip(p, lo, hi)
    target = float(p_ref.sum() + delta_kw)
    achieved = float(p.sum())
    short = target - achieved
    reason = ""
    if abs(short) > max(tol_kw, 1e-9 * max(1.0, abs(target))):
        sums = [float(h.sum()) for h in heads]
        reason = next((REASONS[k + 1] for k, s_ in enumerate(sums) if s_ + tol_kw < amount), "device")
    else:
        short = 0.0
    q_out = None
    if q_kvar is not None:
        s_rating = _vec("s_max_kva", s_max_kva, n, 0.0)
        q_cap = np.sqrt(np.maximum(s_rating**2 - p**2, 0.0))
        cap = float(q_cap.sum())
        q_out = q_cap * (np.clip(q_kvar, -cap, cap) / cap) if cap > 0 else np.zeros(n)
    return Dispatch(
        p_kw=p, target_kw=target, achieved_kw=achieved, shortfall_kw=short, reason=reason, q_kvar=q_out
    )
