"""The Plan: validation messages, aggregates, Parquet/CSV round trip."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from openvpp.errors import ValidationError
from openvpp.schedule import Plan
from openvpp.timeseries import make_index


def small_plan(**over) -> Plan:
    idx = make_index("2020-01-01", 4, 30, tz="Etc/GMT-10")
    n_k, n_d, n_t = 2, 2, 4
    fields = dict(
        index=idx,
        device_ids=["b1", "pv1"],
        device_class=["battery", "pv"],
        site_of_device=[0, 0],
        site_ids=["s1"],
        services=("fcas_raise_6s", "fcas_lower_6s"),
        p_baseline_kw=np.array([[1.0, -1.0, 0.0, 2.0], [-2.0, -3.0, -1.0, 0.0]]),
        reserve_up_kw=np.zeros((n_k, n_d, n_t)) + np.array([1.0, 0.0])[:, None, None],
        reserve_down_kw=np.zeros((n_k, n_d, n_t)),
        service_duration_h=[1 / 60, 1 / 60],
        soc_baseline=np.array([[0.5, 0.55, 0.5, 0.5, 0.6], [np.nan] * 5]),
        soc_min=np.array([[0.4] * 4, [np.nan] * 4]),
        soc_max=np.array([[0.9] * 4, [np.nan] * 4]),
        e_max_kwh=[10.0, np.nan],
        site_p_kw=np.array([[-1.0, -4.0, -1.0, 2.0]]),
        site_export_limit_kw=np.full((1, 4), 5.0),
        site_import_limit_kw=np.full((1, 4), np.inf),
        meta={"method": "test", "objective": 1.5},
    )
    fields.update(over)
    return Plan(**fields)


def test_commitment_is_the_fleet_total_in_mw():
    plan = small_plan()
    up = plan.commitment_up_mw
    assert list(up.columns) == ["fcas_raise_6s", "fcas_lower_6s"]
    # 1 kW on each of the two devices -> 0.002 MW
    assert np.allclose(up["fcas_raise_6s"], 0.002)
    assert np.allclose(plan.commitment_down_mw.to_numpy(), 0.0)
    assert plan.dt_h == 0.5 and plan.n_steps == 4 and plan.n_devices == 2


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("p_baseline_kw", np.zeros((2, 3)), r"Plan.p_baseline_kw must have shape \(2, 4\)"),
        ("reserve_up_kw", -np.ones((2, 2, 4)), "Plan.reserve_up_kw must be >= 0"),
        ("device_ids", ["b1", "b1"], "Plan.device_ids must be unique"),
        (
            "soc_baseline",
            np.full((2, 5), 0.5),
            "Plan.soc_baseline must be NaN exactly for the devices without storage",
        ),
        ("site_p_kw", np.array([[np.nan, 0, 0, 0]]), "Plan.site_p_kw contains NaN"),
        ("service_duration_h", [0.0, 1.0], "Plan.service_duration_h must be > 0"),
        ("site_export_limit_kw", np.full((1, 4), -1.0), "Plan.site_export_limit_kw must be >= 0"),
        ("device_class", ["battery", "toaster"], "unknown classes"),
    ],
)
def test_bad_fields_are_named(field, value, message):
    with pytest.raises(ValidationError, match=message):
        small_plan(**{field: value})


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_round_trip(tmp_path, fmt):
    plan = small_plan()
    if fmt == "parquet":
        plan.to_parquet(tmp_path / "p")
        back = Plan.from_parquet(tmp_path / "p")
        for f in dataclasses.fields(Plan):
            a, b = getattr(plan, f.name), getattr(back, f.name)
            if isinstance(a, np.ndarray) and a.dtype.kind == "f":
                assert np.allclose(a, b, equal_nan=True), f.name
        assert back.index.equals(plan.index)
        assert back.meta["objective"] == 1.5
    else:
        plan.to_csv(tmp_path / "c")
        text = (tmp_path / "c" / "reserves.csv").read_text().splitlines()
        assert text[0] == "service,device_id,step,reserve_up_kw,reserve_down_kw"
        assert len(text) == 1 + 2 * 2 * 4
