"""`openvpp demo` as a study: a shortened pilot day (17:00-23:00) through the real service, checked.

The run covers the envelope drop-out at 17:30, the under-frequency event at 18:30, the OpenADR peak event at
20:00 and the outage at 22:00. Each check compares the result with something computed independently here (the
plan's reserves, the service's stored rows, the envelopes the DSO published).
"""

from __future__ import annotations

import json
import os
import uuid

import numpy as np
import pandas as pd
import pytest

from openvpp.errors import ValidationError
from openvpp.studies.demo import DemoResult, check_demo_inputs, run_demo

HOURS = 6.0
PG_BASE = os.environ.get("OPENVPP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="module")
def demo() -> DemoResult:
    return run_demo(hours=HOURS)


@pytest.mark.parametrize(
    "args, field",
    [
        (("1-LV-nope", "2016-06-15", 4.0, 0), "--grid"),
        (("1-LV-rural1--2-sw", "2017-06-15", 4.0, 0), "--day"),
        (("1-LV-rural1--2-sw", "2016-01-10", 4.0, 0), "--day"),
        (("1-LV-rural1--2-sw", "2016-06-15", 0.0, 0), "--hours"),
        (("1-LV-rural1--2-sw", "2016-06-15", 25.0, 0), "--hours"),
        (("1-LV-rural1--2-sw", "2016-06-15", float("nan"), 0), "--hours"),
    ],
)
def test_bad_inputs_name_the_flag(args, field):
    with pytest.raises(ValidationError, match=field):
        check_demo_inputs(*args)


@pytest.mark.slow
def test_horizon_and_events(demo):
    r = demo
    assert r.start == r.plan.index[0] + pd.Timedelta(hours=17) and r.end - r.start == pd.Timedelta(
        hours=HOURS
    )
    kinds = set(r.kpis["event"])
    assert {
        "under-frequency 18:30",
        "peak reduction 20:00 (OpenADR)",
        "outage 22:00 (island)",
        "envelope feed lost 17:30",
    } <= kinds
    # the OpenADR event arrives as the peak instruction: 30 % of battery power (the plan's peak reserve)
    k = r.plan.index.get_indexer([r.plan.index[0] + pd.Timedelta(hours=20)])[0]
    bat = r.plan.device_class == "battery"
    expected = -0.3 * float(np.asarray(r.fleet.der("battery").p_discharge_max_kw).sum())
    assert r.plan.reserve_up_kw[r.plan.services.index("peak"), bat, k].sum() == pytest.approx(-expected)
    ins = [e for e in r.cosim.controller.events.values()]
    assert len(ins) == 1 and ins[0].instruction.delta_kw == pytest.approx(expected, abs=1e-3)


@pytest.mark.slow
def test_service_stored_what_was_sent(demo):
    r = demo
    t = r.telemetry
    n_dev = sum(r.fleet.count().values())
    assert t["posted"] == n_dev * t["intervals"] == t["accepted"] and t["rejected"] == 0
    assert t["stored_first_der"] == t["intervals"] == HOURS * 12
    assert r.service["envelopes_published"] == r.fleet.n_sites * 96 and r.service["store"] == "sqlite"


@pytest.mark.slow
def test_envelope_feed_falls_back_and_recovers(demo):
    r = demo
    feed = r.feed
    lost = (feed.index >= feed.index[0] + pd.Timedelta(minutes=30)) & (
        feed.index < feed.index[0] + pd.Timedelta(minutes=45)
    )
    assert (feed["status"][lost] == "fallback").all() and (feed["status"][~lost] == "live").all()
    # during the drop-out every site is held at the service's static default (5 kW); live reads are the DSO's
    assert np.allclose(feed["min_limit_kw"][lost], 5.0) and np.allclose(feed["mean_limit_kw"][lost], 5.0)
    k = r.plan.index.get_indexer([feed.index[0]])[0]
    published = np.asarray(r.envelopes.site_export_kw)[:, k]
    assert feed["mean_limit_kw"].iloc[0] == pytest.approx(
        published.mean(), abs=1e-3
    )  # ActivePower round trip
    # the plan honours the applied limit wherever PV can be curtailed
    exp = -r.plan.site_p_kw
    assert np.all(exp <= r.applied_export_kw + 1e-6)


@pytest.mark.slow
def test_kpis_soc_network_and_settlement(demo):
    r = demo
    failing = r.kpis[~r.kpis["within"]]
    # every KPI outside its bound carries the reason
    assert all(note for note in failing["note"]), failing
    assert (
        r.soc["within"] and r.soc["window_min"] <= r.soc["soc_min"] <= r.soc["soc_max"] <= r.soc["window_max"]
    )
    assert r.network_check.v_min_pu >= 0.9 and r.network_check.v_max_pu <= 1.1
    st = r.settlement
    assert set(st.performance.events["service"]) == {"peak_reduction", "cpf_plus"}
    paid = float(st.statements["total_usd"].sum())
    assert paid == pytest.approx(float(st.aggregator["participant_payments_usd"].sum()), rel=1e-9)
    assert r.economics["table4"]["total"]["p_mw"] > 0


@pytest.mark.slow
def test_summary_is_standard_json(demo):
    text = json.dumps(demo.summary(), allow_nan=False)
    doc = json.loads(text)
    assert doc["counts"]["sites"] == demo.fleet.n_sites and doc["envelope_feed"]["fallback_minutes"] == 15.0


def _pg_url() -> str:
    try:
        import psycopg

        with psycopg.connect(PG_BASE, connect_timeout=3):
            pass
    except Exception:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI at {PG_BASE}")
        pytest.skip(f"no PostgreSQL at {PG_BASE}")
    return PG_BASE


def _broker() -> str:
    import socket

    url = os.environ.get("OPENVPP_TEST_MQTT", "mqtt://127.0.0.1:1883")
    host, port = url.removeprefix("mqtt://").split(":")
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
    except OSError:
        if os.environ.get("CI"):
            pytest.fail(f"Mosquitto is required in CI at {url}")
        pytest.skip(f"no MQTT broker at {url}")
    return url


@pytest.mark.slow
def test_postgresql_and_mqtt_give_the_same_numbers(demo):
    import psycopg

    base, broker = _pg_url(), _broker()
    schema = f"demo_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as c:
        c.execute(f'CREATE SCHEMA "{schema}"')
    try:
        pg = run_demo(hours=HOURS, db_url=f"{base}?options=-csearch_path%3D{schema}", broker_url=broker)
    finally:
        with psycopg.connect(base, autocommit=True) as c:
            c.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    assert pg.service["store"] == "postgresql" and pg.telemetry["path"].startswith("mqtt")
    a, b = demo.summary(), pg.summary()
    for key in ("kpis", "network", "soc", "envelope_feed", "forecast", "settlement", "economics"):
        assert a[key] == b[key], key
    for key in ("posted", "accepted", "rejected", "stored_first_der", "intervals"):
        assert a["telemetry"][key] == b["telemetry"][key], key
