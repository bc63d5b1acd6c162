"""The two worked cases of Sarmiento-Vintimilla et al. (2024), seed 003 §4, as runnable studies.

Case 1 (§4.1, theoretical): a VPP with two common connection points. CCP1 ("grid 1") holds a 5 MW PV plant
and a 2 MW storage system; CCP2 ("grid 2") a 10 MW hydro plant and a 3 MW wind farm. Table 1 gives the
forecast active and reactive capability of the variable units for period t1 at three probabilities of
occurrence (P10 > P50 > P90: the level exceeded with that probability); the text gives the operating point at
t0, the ramps and the storage limits. The operator's request for t1 is pi 8 MW, rho 2 MW/min at the VPP,
phi 3 Mvar and psi 2.5 Mvar/min at grid 1, phi -1 Mvar and psi -3.5 Mvar/min at grid 2. The paper finds the
active request met and the reactive request at grid 1 not met (Fig. 10).

Case 2 (§4.2, field test): a 4 MW hydro unit with a reservoir (H1, 69 kV) and a 1 MW PV plant (PV1, 22 kV)
at two separate CCPs. Synchronised, H1 ramps 8.4 MW/min up and 14.4 MW/min down (1.3 MW/min up from
standstill); PV1 is credited 1 MW/min. The aggregate is pi [0, 5] MW, rho [-15.4, 9.4] MW/min and
eps [0, 5] MWh per one-hour period. A dispatch of 4 MW in t1-t3 is met; 6 MW in t4 is not (deficit in pi and
eps, Fig. 14).

Numbers not printed in the paper, and the choice made here (documented in docs/flexibility.md):

* Case 1 energies: the paper requests no energy and gives none; eps is the P-level held over a one-hour
  period, and the storage (50 % charged, +-1 MW) is credited +-1 MWh.
* Case 1 P10 / P90 ramps: the paper gives ramps only for P50; the same ramps are used for P10 and P90.
* Case 2 ramp need: the request's ramp is the PV variability the hydro unit must follow (+-1 MW/min, PV1's
  ramp) plus the step between periods reached within one minute (t4: +2 MW/min).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from openvpp.errors import ValidationError
from openvpp.flex.aggregate import AggregateFlexibility, aggregate
from openvpp.flex.metrics import FlexMetrics, metrics_from_records
from openvpp.flex.request import FlexRequest, Verification, dispatch_requests, verify
from openvpp.units import KW_PER_MW

QUANTILES = ("P10", "P50", "P90")
CASE1_CCP_NAMES = {0: "grid 1", 1: "grid 2"}
CASE2_CCP_NAMES = {0: "H1 (69 kV)", 1: "PV1 (22 kV)"}

#: seed 003 Table 1: forecast active power [MW] and reactive capability +- [Mvar] for period t1
CASE1_TABLE1: dict[str, dict[str, tuple[float, float]]] = {
    "pv": {"P10": (4.0, 2.2), "P50": (3.0, 2.0), "P90": (2.0, 1.8)},
    "hydro": {"P10": (10.0, 3.5), "P50": (8.0, 3.0), "P90": (7.0, 2.8)},
    "wind": {"P10": (3.0, 1.3), "P50": (2.0, 1.0), "P90": (1.0, 0.5)},
}

#: seed 003 §4.1: operating point at t0 [MW, Mvar] and ramps (up, down) [MW/min, Mvar/min]
CASE1_UNITS = {
    #          ccp  p0   q0   rho_up rho_down psi_up psi_down
    "pv": (0, 2.0, 0.5, 1.0, 2.0, 1.5, 2.5),
    "storage": (0, 0.0, 0.0, 0.5, 0.5, 0.5, 0.5),
    "hydro": (1, 3.0, 2.0, 5.0, 3.0, 1.0, 5.0),
    "wind": (1, 1.0, 0.5, 1.0, 1.0, 0.5, 1.5),
}
#: storage at 50 % charge: +-1 MW, +-0.5 Mvar (seed 003 §4.1); +-1 MWh over the period (assumption)
CASE1_STORAGE = {"p_mw": 1.0, "q_mvar": 0.5, "e_mwh": 1.0}
CASE1_PERIOD_H = 1.0


def case1_metrics(quantile: str = "P50") -> FlexMetrics:
    """Device metrics of case 1 at one probability of occurrence (seed 003 §4.1, Table 1), kW units.

    Variable units can be curtailed to zero: pi in [0, P], phi in [-Q, Q] from Table 1; storage pi and phi
    are symmetric. Energies are the levels held over one hour (see the module docstring).

    Parameters
    ----------
    quantile : str
        ``P10``, ``P50`` or ``P90``.
    """
    if quantile not in QUANTILES:
        raise ValidationError(f"quantile must be one of {QUANTILES} (got {quantile!r})")
    records = []
    for unit, (ccp, p0, q0, r_up, r_dn, s_up, s_dn) in CASE1_UNITS.items():
        if unit == "storage":
            p_lo, p_hi = -CASE1_STORAGE["p_mw"], CASE1_STORAGE["p_mw"]
            q = CASE1_STORAGE["q_mvar"]
            e_lo, e_hi = -CASE1_STORAGE["e_mwh"], CASE1_STORAGE["e_mwh"]
        else:
            p_hi, q = CASE1_TABLE1[unit][quantile]
            p_lo = 0.0
            e_lo, e_hi = 0.0, p_hi * CASE1_PERIOD_H
        records.append(
            {
                "device_id": unit,
                "ccp": ccp,
                "pi_min_kw": p_lo,
                "pi_max_kw": p_hi,
                "rho_down_kw_per_min": -r_dn,
                "rho_up_kw_per_min": r_up,
                "eps_min_kwh": e_lo,
                "eps_max_kwh": e_hi,
                "phi_min_kvar": -q,
                "phi_max_kvar": q,
                "psi_down_kvar_per_min": -s_dn,
                "psi_up_kvar_per_min": s_up,
                "pi0_kw": p0,
                "phi0_kvar": q0,
                "horizon_h": CASE1_PERIOD_H,
            }
        )
    table = metrics_from_records(records, scale=KW_PER_MW)
    return table.replace(kind=np.array(list(CASE1_UNITS), dtype=object))


def case1_request() -> FlexRequest:
    """The system operator's request for t1 (seed 003 §4.1, step three)."""
    return FlexRequest.build(
        "t1",
        pi_mw=8.0,
        rho_mw_per_min=2.0,
        reactive={0: {"phi": 3.0, "psi": 2.5}, 1: {"phi": -1.0, "psi": -3.5}},
    )


#: seed 003 §4.2: H1 hydro and PV1 [MW, MW/min]
CASE2_H1 = {
    "p_max_mw": 4.0,
    "p_min_sync_mw": 0.5,
    "ramp_up_mw_per_min": 8.4,
    "ramp_down_mw_per_min": 14.4,
    "ramp_up_standstill_mw_per_min": 1.3,
}
CASE2_PV1 = {"p50_mw": 1.0, "ramp_mw_per_min": 1.0}
#: the requested dispatch curve, four one-hour periods [MW]
CASE2_DISPATCH_MW = (4.0, 4.0, 4.0, 6.0)
CASE2_PERIOD_H = 1.0


def case2_metrics(synchronised: bool = True) -> FlexMetrics:
    """Device metrics of case 2 from the paper's figures (seed 003 §4.2), kW units.

    H1 has no technical or energy limitation in the test (pi in [0, 4] MW, eps in [0, 4] MWh per hour); its
    upward ramp is 8.4 MW/min when synchronised and 1.3 MW/min from standstill. PV1 (P50 = 1 MW) can be
    curtailed to zero and is credited 1 MW/min both ways.

    Parameters
    ----------
    synchronised : bool
        Whether the hydro unit is synchronised.
    """
    h1, pv = CASE2_H1, CASE2_PV1
    up = h1["ramp_up_mw_per_min"] if synchronised else h1["ramp_up_standstill_mw_per_min"]
    records = [
        {
            "device_id": "H1",
            "ccp": 0,
            "pi_min_kw": 0.0,
            "pi_max_kw": h1["p_max_mw"],
            "rho_down_kw_per_min": -h1["ramp_down_mw_per_min"],
            "rho_up_kw_per_min": up,
            "eps_min_kwh": 0.0,
            "eps_max_kwh": h1["p_max_mw"] * CASE2_PERIOD_H,
            "horizon_h": CASE2_PERIOD_H,
        },
        {
            "device_id": "PV1",
            "ccp": 1,
            "pi_min_kw": 0.0,
            "pi_max_kw": pv["p50_mw"],
            "rho_down_kw_per_min": -pv["ramp_mw_per_min"],
            "rho_up_kw_per_min": pv["ramp_mw_per_min"],
            "eps_min_kwh": 0.0,
            "eps_max_kwh": pv["p50_mw"] * CASE2_PERIOD_H,
            "horizon_h": CASE2_PERIOD_H,
        },
    ]
    table = metrics_from_records(records, scale=KW_PER_MW)
    return table.replace(kind=np.array(["hydro", "pv"], dtype=object))


def case2_requests() -> list[FlexRequest]:
    """Needs of the requested dispatch curve: 4 MW in t1-t3, 6 MW in t4 (seed 003 §4.2, step three)."""
    return dispatch_requests(
        np.array(CASE2_DISPATCH_MW),
        CASE2_PERIOD_H,
        ramp_window_min=1.0,
        variability_mw_per_min=CASE2_PV1["ramp_mw_per_min"],
    )


# ---------------------------------------------------------------------------------------------- study
@dataclasses.dataclass(frozen=True)
class Case1Result:
    """Case 1 at P10, P50 and P90: metrics, aggregates and verification of the t1 request."""

    metrics: dict[str, FlexMetrics]
    aggregates: dict[str, AggregateFlexibility]
    request: FlexRequest
    verification: dict[str, Verification]

    def quantile_table(self) -> list[dict]:
        """One row per probability and scope with the pi, rho, phi, psi intervals and the verdict."""
        rows = []
        for q, agg in self.aggregates.items():
            ver = self.verification[q]
            for scope, code in (("VPP", None), *((n, c) for c, n in CASE1_CCP_NAMES.items())):
                row: dict = {"quantile": q, "scope": scope}
                for m in ("pi", "rho", "eps") if code is None else ("pi", "rho", "phi", "psi"):
                    row[m] = agg.interval(m, code)
                mask = [c == code for c in ver.ccp]
                row["met"] = bool(np.all(ver.met[mask])) if any(mask) else True
                rows.append(row)
        return rows


@dataclasses.dataclass(frozen=True)
class Case2Result:
    """Case 2: metrics, the aggregate of H1 and PV1, one verification per period."""

    metrics: FlexMetrics
    aggregate: AggregateFlexibility
    aggregate_standstill: AggregateFlexibility
    requests: list[FlexRequest]
    verification: list[Verification]


@dataclasses.dataclass(frozen=True)
class FlexibilityPaperResult:
    """Both worked cases of seed 003 §4."""

    case1: Case1Result
    case2: Case2Result

    def summary(self) -> dict:
        """JSON-ready summary of both cases."""
        c1, c2 = self.case1, self.case2
        return {
            "case1": {
                q: {"ok": v.ok, "violations": v.violations(), "available": c1.aggregates[q].to_dict()}
                for q, v in c1.verification.items()
            },
            "case2": {
                "available": c2.aggregate.to_dict(),
                "periods": [v.to_dict() for v in c2.verification],
            },
        }


def run_flexibility_paper(pq_directions: int = 64) -> FlexibilityPaperResult:
    """Reproduce both cases of seed 003 §4.

    Parameters
    ----------
    pq_directions : int
        Support directions for the P-Q regions of case 1's CCPs (0: skip). [-]
    """
    metrics1 = {q: case1_metrics(q) for q in QUANTILES}
    aggs1 = {
        q: aggregate(m, ccp_names=CASE1_CCP_NAMES, label=q, pq_directions=pq_directions)
        for q, m in metrics1.items()
    }
    req1 = case1_request()
    case1 = Case1Result(metrics1, aggs1, req1, {q: verify(req1, a) for q, a in aggs1.items()})
    m2 = case2_metrics()
    agg2 = aggregate(m2, ccp_names=CASE2_CCP_NAMES, label="P50")
    agg2s = aggregate(
        case2_metrics(synchronised=False), ccp_names=CASE2_CCP_NAMES, label="P50, H1 at standstill"
    )
    reqs = case2_requests()
    case2 = Case2Result(m2, agg2, agg2s, reqs, [verify(r, agg2) for r in reqs])
    return FlexibilityPaperResult(case1, case2)
