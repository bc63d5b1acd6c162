"""The SAPN constraint engine: raw and mediated export limits per transformer and per site.

Implements §2.2 of the CSIRO/SAPN report (seed 001). The report's raw-limit equation is garbled in the only
public copy; OpenVPP adopts the interpretation recorded in SEEDS.md, consistent with every sentence of
§2.2 and §4 (capacity lowest at midday with high PV, highest at night, floored at 0 kW for hosting capacity):

    raw transformer limit      C_i(t) = m * min(P_volt_i, P_therm_i) + p_net_i(t)          (eq. 1, adopted)
    raw per-site limit         C_i(t) / N_i                                               (eq. 2)
    mediated per-site limit    clip(C_i(t) / N_i, floor, cap), floor = 5 kW, cap = 10 kW  (eqs 4-6)

``p_net_i(t) = D_i(t) - G_i(t)`` is the modelled net demand at the transformer in the load convention of
:mod:`openvpp.units` (+ = drawn from the upstream grid; a reverse flow is negative), ``P_volt`` and
``P_therm`` are the largest reverse flows (positive kW) before a voltage or a thermal limit is exceeded,
``m`` in [0, 1] is
the confidence margin (0.2 conservative, 0.8 less so) and ``N_i`` is the number of VPP sites on transformer
``i``. All limits are export limits in kW, positive numbers.

Arrays are shaped ``(n_transformers, n_scenarios, n_steps)``; per-transformer parameters ``(n_transformers,)``
broadcast over the last two axes. Beyond the seed's equal share, :func:`allocate_sites_kw` shares a
transformer's raw limit among its sites in proportion to DER size or by max-min fairness (water-filling
against each site's own export capability); no library offers these allocation rules over arrays of time
series, so they are written here with numpy, vectorised over sites and time.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openvpp.errors import ValidationError

#: static export limit per site that is always allowed (seed 001 §2.2) [kW]
STATIC_FLOOR_KW = 5.0
#: largest dynamic export limit per site (seed 001 §2.2) [kW]
DYNAMIC_CAP_KW = 10.0
#: confidence margin used for every figure of seed 001 §3 [-]
DEFAULT_MARGIN = 0.8
#: allocation strategies of :func:`allocate_sites_kw`
ALLOCATIONS = ("equal", "proportional", "maxmin")


def _as_array(name: str, values: ArrayLike) -> NDArray[np.floating]:
    try:
        arr = np.asarray(values)
    except (TypeError, ValueError) as exc:  # pragma: no cover - numpy rarely fails here
        raise ValidationError(f"{name} must be numeric ({exc})") from exc
    if arr.dtype.kind not in "fiu":
        raise ValidationError(f"{name} must be numeric (got dtype {arr.dtype}); pass kW values as floats")
    if arr.dtype.kind != "f":
        arr = arr.astype(float)
    return arr


def _check_finite(name: str, arr: NDArray) -> None:
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValidationError(
            f"{name} contains NaN or inf at index {tuple(int(b) for b in bad)}; fill it first"
        )


def check_margin(m: float, name: str = "m") -> float:
    """Validate the confidence margin ``m`` (seed 001 §2.2) and return it as float.

    Parameters
    ----------
    m : float
        Confidence margin in [0, 1]. [-]
    name : str
        Name of the input in the message (``"--margin"`` for the command line).

    Returns
    -------
    float
        ``m``. [-]
    """
    try:
        ok = np.isfinite(m) and 0.0 <= float(m) <= 1.0
    except TypeError:
        ok = False
    if not ok:
        raise ValidationError(
            f"confidence margin {name} must lie in [0, 1] (got {m!r}); 0.2 is conservative, 0.8 less so"
        )
    return float(m)


def check_band(floor_kw: float, cap_kw: float) -> tuple[float, float]:
    """Validate the mediated band ``[floor_kw, cap_kw]`` (seed 001 §2.2: 5 and 10 kW) and return it.

    Parameters
    ----------
    floor_kw, cap_kw : float
        Static floor and dynamic cap. [kW]

    Returns
    -------
    (floor_kw, cap_kw) : tuple of float
        [kW]
    """
    if not (np.isfinite(floor_kw) and np.isfinite(cap_kw)) or floor_kw < 0 or cap_kw < floor_kw:
        raise ValidationError(
            f"the mediated band needs 0 <= floor_kw <= cap_kw (got floor_kw={floor_kw!r}, "
            f"cap_kw={cap_kw!r}); "
            "the seed uses 5 kW and 10 kW"
        )
    return float(floor_kw), float(cap_kw)


def _per_transformer(name: str, values: ArrayLike, n: int | None, positive: bool = False) -> NDArray:
    arr = _as_array(name, values)
    if arr.ndim != 1:
        raise ValidationError(f"{name} must be 1-D shaped (n_transformers,) (got shape {arr.shape})")
    if n is not None and arr.shape[0] != n:
        raise ValidationError(
            f"{name} has {arr.shape[0]} values but there are {n} transformers; give one value per transformer"
        )
    _check_finite(name, arr)
    if positive and np.any(arr <= 0):
        i = int(np.argmax(arr <= 0))
        raise ValidationError(f"{name} must be > 0 (got {arr[i]!r} for transformer {i})")
    if not positive and np.any(arr < 0):
        i = int(np.argmax(arr < 0))
        raise ValidationError(
            f"{name} must be >= 0 (got {arr[i]!r} for transformer {i}); reverse-flow limits are positive kW"
        )
    return arr


def limit_headroom_kw(p_volt_kw: ArrayLike, p_therm_kw: ArrayLike, m: float = DEFAULT_MARGIN) -> NDArray:
    """Time-invariant part of the raw limit, ``m * min(P_volt, P_therm)`` (eq. 1, seed 001 §2.2, adopted).

    Parameters
    ----------
    p_volt_kw, p_therm_kw : array_like, shape (n_transformers,)
        Largest reverse power flow before a voltage / a thermal limit is exceeded (positive). [kW]
    m : float
        Confidence margin in [0, 1]. [-]

    Returns
    -------
    numpy.ndarray, shape (n_transformers,)
        [kW]
    """
    m = check_margin(m)
    pv = _per_transformer("p_volt_kw", p_volt_kw, None)
    pt = _per_transformer("p_therm_kw", p_therm_kw, pv.shape[0])
    return m * np.minimum(pv, pt)


def raw_limit_kw(
    p_net_kw: ArrayLike,
    p_volt_kw: ArrayLike,
    p_therm_kw: ArrayLike,
    m: float = DEFAULT_MARGIN,
) -> NDArray:
    """Raw export limit of each transformer, ``C_i(t) = m min(P_volt_i, P_therm_i) + p_net_i(t)``.

    Eq. (1) of seed 001 §2.2 in the interpretation adopted by OpenVPP (see the module docstring).

    Parameters
    ----------
    p_net_kw : array_like, shape (n_transformers, ...) e.g. (n_transformers, n_scenarios, n_steps)
        Modelled net demand at the transformer, D - G, load convention (+ = import; reverse flow < 0). [kW]
    p_volt_kw, p_therm_kw : array_like, shape (n_transformers,)
        Largest reverse flow before a voltage / a thermal limit is exceeded (positive). [kW]
    m : float
        Confidence margin in [0, 1]. [-]

    Returns
    -------
    numpy.ndarray, same shape as ``p_net_kw``
        Raw limit; negative where the modelled reverse flow already exceeds the margin. [kW]
    """
    p_net = _as_array("p_net_kw", p_net_kw)
    if p_net.ndim < 1:
        raise ValidationError("p_net_kw must have a leading transformer axis (got a scalar)")
    _check_finite("p_net_kw", p_net)
    head = limit_headroom_kw(p_volt_kw, p_therm_kw, m)
    if head.shape[0] != p_net.shape[0]:
        raise ValidationError(
            f"p_net_kw has {p_net.shape[0]} transformers but p_volt_kw/p_therm_kw have {head.shape[0]}; "
            "the first axis of p_net_kw is the transformer"
        )
    return p_net + head.reshape((-1,) + (1,) * (p_net.ndim - 1)).astype(p_net.dtype, copy=False)


def raw_per_site_kw(raw_kw: ArrayLike, n_sites: ArrayLike, out: NDArray | None = None) -> NDArray:
    """Raw limit per VPP site by equal share, ``C_i(t) / N_i`` (eq. 2 of seed 001 §2.2).

    Parameters
    ----------
    raw_kw : array_like, shape (n_transformers, ...)
        Raw transformer limit from :func:`raw_limit_kw`. [kW]
    n_sites : array_like of int, shape (n_transformers,)
        Number of VPP sites on each transformer (>= 1). [-]
    out : numpy.ndarray, optional
        Array to write the result into (may be ``raw_kw`` itself: the network sweep reuses its buffer). [kW]

    Returns
    -------
    numpy.ndarray, same shape as ``raw_kw``
        [kW]
    """
    raw = _as_array("raw_kw", raw_kw)
    n = check_n_sites(n_sites, raw.shape[0])
    inv = (1.0 / n).reshape((-1,) + (1,) * (raw.ndim - 1)).astype(raw.dtype, copy=False)
    return np.multiply(raw, inv, out=out)


def check_n_sites(n_sites: ArrayLike, n_transformers: int | None = None) -> NDArray:
    """Validate the number of VPP sites per transformer (integers >= 1) and return it as float array.

    Parameters
    ----------
    n_sites : array_like, shape (n_transformers,)
        VPP sites per transformer. [-]
    n_transformers : int, optional
        Expected length. [-]

    Returns
    -------
    numpy.ndarray
        ``n_sites`` as floats. [-]
    """
    n = _as_array("n_sites", n_sites)
    if n.ndim != 1:
        raise ValidationError(f"n_sites must be 1-D shaped (n_transformers,) (got shape {n.shape})")
    if n_transformers is not None and n.shape[0] != n_transformers:
        raise ValidationError(
            f"n_sites has {n.shape[0]} values but there are {n_transformers} transformers; "
            "give one per transformer"
        )
    _check_finite("n_sites", n)
    if np.any(n < 1) or np.any(n != np.round(n)):
        i = int(np.argmax((n < 1) | (n != np.round(n))))
        raise ValidationError(
            f"n_sites must be whole numbers >= 1 (got {n[i]!r} for transformer {i}); "
            "a transformer without VPP "
            "sites has no site limit: drop it"
        )
    return n


def mediated_kw(
    raw_per_site: ArrayLike,
    floor_kw: float = STATIC_FLOOR_KW,
    cap_kw: float = DYNAMIC_CAP_KW,
    out: NDArray | None = None,
) -> NDArray:
    """Mediated per-site limit: raw per-site limit saturated to ``[floor_kw, cap_kw]`` (eqs 4-6, seed 001).

    Below the floor the static limit applies (raised to 5 kW); above the cap the dynamic limit is capped
    (10 kW).

    Parameters
    ----------
    raw_per_site : array_like
        Raw limit per site, e.g. from :func:`raw_per_site_kw` or :func:`allocate_sites_kw`. [kW]
    floor_kw, cap_kw : float
        Static floor and dynamic cap. [kW]
    out : numpy.ndarray, optional
        Array to write the result into (may be ``raw_per_site`` itself). [kW]

    Returns
    -------
    numpy.ndarray, same shape
        [kW]
    """
    lo, hi = check_band(floor_kw, cap_kw)
    raw = _as_array("raw_per_site", raw_per_site)
    return np.clip(raw, lo, hi, out=out)


def mediated_limit_kw(
    p_net_kw: ArrayLike,
    p_volt_kw: ArrayLike,
    p_therm_kw: ArrayLike,
    n_sites: ArrayLike,
    m: float = DEFAULT_MARGIN,
    floor_kw: float = STATIC_FLOOR_KW,
    cap_kw: float = DYNAMIC_CAP_KW,
) -> NDArray:
    """Raw limit, equal share and saturation in one call: ``clip(C_i(t) / N_i, floor, cap)`` (seed 001 §2.2).

    Parameters are those of :func:`raw_limit_kw`, :func:`raw_per_site_kw` and :func:`mediated_kw`.

    Parameters
    ----------
    p_net_kw : ArrayLike
        Modelled net demand per transformer (load convention). [kW]
    p_volt_kw : ArrayLike
        Largest reverse flow before a voltage limit is exceeded. [kW]
    p_therm_kw : ArrayLike
        Largest reverse flow before a thermal limit is exceeded. [kW]
    n_sites : ArrayLike
        VPP sites per transformer. [-]
    m : float
        Confidence margin in [0, 1]. [-]
    floor_kw : float
        Static floor of the mediated limit. [kW]
    cap_kw : float
        Largest limit per site (dynamic cap). [kW]

    Returns
    -------
    numpy.ndarray, shape of ``p_net_kw``
        Mediated per-site export limit. [kW]
    """
    raw = raw_limit_kw(p_net_kw, p_volt_kw, p_therm_kw, m)
    return mediated_kw(raw_per_site_kw(raw, n_sites), floor_kw, cap_kw)


def allocate_sites_kw(
    raw_kw: ArrayLike,
    site_node: ArrayLike,
    strategy: str = "equal",
    der_kw: ArrayLike | None = None,
) -> NDArray:
    """Share each transformer's raw limit among its VPP sites.

    ``equal`` is the seed's rule (seed 001 §2.2, "distributed in equal ratio"); the report notes that a VPP
    could allocate in other ratios, so two more rules are offered:

    * ``proportional``: site j on node i gets ``C_i * der_j / sum_{k on i} der_k``;
    * ``maxmin``: max-min fair water-filling, ``x_j = min(der_j, lam_i)`` with ``sum_j x_j = C_i`` (every site
      gets the same level ``lam_i`` unless its own export capability ``der_j`` is smaller, whose unused share
      goes to the others); when ``C_i`` exceeds the sum of the capabilities every site gets ``der_j`` plus an
      equal share of the surplus, and a negative ``C_i`` is shared equally.

    Every rule conserves the transformer total: ``sum_{j on i} x_j(t) = C_i(t)``. Apply :func:`mediated_kw`
    afterwards to saturate each site's share to the static floor and dynamic cap.

    Parameters
    ----------
    raw_kw : array_like, shape (n_transformers, ...)
        Raw transformer limits. [kW]
    site_node : array_like of int, shape (n_sites,)
        Index of the transformer (constraint node) of each site, in ``0 .. n_transformers - 1``. [-]
    strategy : {"equal", "proportional", "maxmin"}
        Allocation rule.
    der_kw : array_like, shape (n_sites,), optional
        Export capability of each site's DER (e.g. PV + battery inverter ratings, > 0); required for
        ``proportional`` and ``maxmin``. [kW]

    Returns
    -------
    numpy.ndarray, shape (n_sites, ...)
        Raw limit of each site. [kW]
    """
    raw = _as_array("raw_kw", raw_kw)
    _check_finite("raw_kw", raw)
    node = np.asarray(site_node)
    if node.ndim != 1 or node.dtype.kind not in "iu":
        raise ValidationError(
            f"site_node must be a 1-D integer array of transformer indices (got {node.dtype})"
        )
    n_tf = raw.shape[0]
    if node.size and (node.min() < 0 or node.max() >= n_tf):
        raise ValidationError(
            f"site_node must index transformers 0..{n_tf - 1} (got values {node.min()}..{node.max()})"
        )
    counts = np.bincount(node, minlength=n_tf).astype(float)
    if strategy not in ALLOCATIONS:
        raise ValidationError(f"strategy must be one of {ALLOCATIONS} (got {strategy!r})")
    extra = (1,) * (raw.ndim - 1)
    if strategy == "equal":
        with np.errstate(invalid="ignore", divide="ignore"):
            return raw[node] / counts[node].reshape((-1, *extra))
    if der_kw is None:
        raise ValidationError(f"strategy {strategy!r} needs der_kw, the export capability of each site in kW")
    der = _as_array("der_kw", der_kw)
    if der.shape != node.shape:
        raise ValidationError(f"der_kw must have one value per site, shape {node.shape} (got {der.shape})")
    _check_finite("der_kw", der)
    if np.any(der <= 0):
        j = int(np.argmax(der <= 0))
        raise ValidationError(f"der_kw must be > 0 (got {der[j]!r} for site {j})")
    total = np.bincount(node, weights=der, minlength=n_tf)
    if strategy == "proportional":
        return raw[node] * (der / total[node]).reshape((-1, *extra))
    return _maxmin(raw, node, der, counts, total, extra)


def _maxmin(
    raw: NDArray, node: NDArray, der: NDArray, counts: NDArray, total: NDArray, extra: tuple
) -> NDArray:
    """Water-filling per transformer; loops over positions within a group (at most the largest group size)."""
    order = np.lexsort((der, node))  # sites grouped by node, capabilities ascending within the group
    node_s, der_s = node[order], der[order]
    starts = np.searchsorted(node_s, np.arange(raw.shape[0]))
    pos = np.arange(node_s.size) - starts[node_s]  # position within the group, 0-based
    cnt = counts[node_s]
    # level that fills group positions >= pos when the smaller ones sit at their capability
    below = np.cumsum(der_s) - der_s
    below -= below[starts[node_s]]  # capability of smaller sites in the same group
    raw_s = raw[node_s]
    lam_k = (raw_s - below.reshape((-1, *extra))) / (cnt - pos).reshape((-1, *extra))
    prev_cap = np.where(pos > 0, np.r_[0.0, der_s[:-1]], -np.inf).reshape((-1, *extra))
    ok = (lam_k >= prev_cap) & (lam_k <= der_s.reshape((-1, *extra)))
    # the level of a group is the lam_k of its (unique) consistent position; take the first one found
    lam = np.full(raw.shape, np.nan)
    first = ok & ~_seen_before(ok, node_s, starts)
    idx = np.nonzero(first)
    lam[(node_s[idx[0]], *idx[1:])] = lam_k[idx]
    lam_site = lam[node_s]
    x = np.minimum(der_s.reshape((-1, *extra)), lam_site)
    # all capabilities met: share the surplus equally; negative or unresolved totals: equal share
    surplus = raw_s - total[node_s].reshape((-1, *extra))
    x = np.where(surplus > 0, der_s.reshape((-1, *extra)) + surplus / cnt.reshape((-1, *extra)), x)
    x = np.where((raw_s < 0) | np.isnan(x), raw_s / cnt.reshape((-1, *extra)), x)
    out = np.empty_like(x)
    out[order] = x
    return out


def _seen_before(ok: NDArray, node_s: NDArray, starts: NDArray) -> NDArray:
    """True where an earlier position of the same group is already ``ok`` (cumulative OR within groups)."""
    c = np.cumsum(ok, axis=0)
    base = c[starts[node_s]] - ok[starts[node_s]]
    return (c - ok - base) > 0
