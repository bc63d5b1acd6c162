"""Fixture: a small hand-made plan factory (the Plan is a plain dataclass of arrays)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from openvpp.schedule.plan import Plan


def small_plan(
    n_bat: int = 6,
    n_ev: int = 4,
    n_pv: int = 2,
    n_steps: int = 96,
    step_min: float = 15.0,
    services: tuple[str, ...] = ("cpf_plus", "cpf_minus", "peak", "ci"),
    bat_kw: float = 5.0,
    start: str = "2024-07-01 00:00",
) -> Plan:
    """Batteries idle at SoC 0.5 (5 kW / 13.5 kWh), EVs drawing 7 kW, PV at -2 kW; one site per device.

    Reserves: every battery commits 2 kW CPF+ (up) and 2 kW CPF- (down), 1 kW peak (up); every EV its
    whole 7 kW to CI (up).
    """
    index = pd.date_range(start, periods=n_steps, freq=pd.Timedelta(minutes=step_min), tz="UTC")
    n = n_bat + n_ev + n_pv
    cls = ["battery"] * n_bat + ["ev"] * n_ev + ["pv"] * n_pv
    base = np.zeros((n, n_steps))
    base[n_bat : n_bat + n_ev] = 7.0
    base[n_bat + n_ev :] = -2.0
    p_min = base.copy()
    p_max = base.copy()
    p_min[:n_bat] = -bat_kw
    p_max[:n_bat] = bat_kw
    p_min[n_bat : n_bat + n_ev] = 0.0
    p_max[n_bat : n_bat + n_ev] = 11.0
    p_max[n_bat + n_ev :] = 0.0
    ns = len(services)
    up = np.zeros((ns, n, n_steps))
    dn = np.zeros((ns, n, n_steps))
    if "cpf_plus" in services:
        up[services.index("cpf_plus"), :n_bat] = 2.0
    if "cpf_minus" in services:
        dn[services.index("cpf_minus"), :n_bat] = 2.0
    if "peak" in services:
        up[services.index("peak"), :n_bat] = 1.0
    if "ci" in services:
        up[services.index("ci"), n_bat : n_bat + n_ev] = 7.0
    e_max = np.full(n, np.nan)
    e_max[:n_bat] = 13.5
    soc_b = np.full((n, n_steps + 1), np.nan)
    soc_b[:n_bat] = 0.5
    soc_lo = np.full((n, n_steps), np.nan)
    soc_hi = np.full((n, n_steps), np.nan)
    soc_lo[:n_bat] = 0.1
    soc_hi[:n_bat] = 0.9
    site_p = base + 1.0
    return Plan(
        index=index,
        device_ids=[f"d{i}" for i in range(n)],
        device_class=cls,
        site_of_device=np.arange(n),
        site_ids=[f"s{i}" for i in range(n)],
        services=services,
        p_baseline_kw=base,
        reserve_up_kw=up,
        reserve_down_kw=dn,
        service_duration_h=np.full(ns, 0.25),
        soc_baseline=soc_b,
        soc_min=soc_lo,
        soc_max=soc_hi,
        e_max_kwh=e_max,
        site_p_kw=site_p,
        site_export_limit_kw=np.full((n, n_steps), np.inf),
        site_import_limit_kw=np.full((n, n_steps), np.inf),
        p_min_kw=p_min,
        p_max_kw=p_max,
    )


@pytest.fixture
def make_plan():
    """The :func:`small_plan` factory."""
    return small_plan
