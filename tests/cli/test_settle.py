"""`openvpp settle` on the documented example files: tables, statements, JSON, and bad input."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from openvpp.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
TEL = str(EXAMPLES / "settlement_telemetry.csv")
EV = str(EXAMPLES / "settlement_events.csv")


def run(args, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["openvpp", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def test_settle_writes_statements_that_sum_to_the_payments(tmp_path, monkeypatch, capsys):
    code, out, err = run(["settle", "--telemetry", TEL, "--events", EV, "--out", "o"], monkeypatch, capsys)
    assert code == 0, err
    assert "pk-1" in out and "Monthly totals" in out and "eligible" in out
    st = pd.read_csv(tmp_path / "o" / "settlement_statements.csv")
    agg = pd.read_csv(tmp_path / "o" / "settlement_aggregator.csv")
    assert len(st) == 5
    assert st["total_usd"].sum() == pytest.approx(agg["participant_payments_usd"].sum())
    assert (tmp_path / "o" / "statements" / "bat-01_2026-06.png").stat().st_size > 1000
    one = json.loads((tmp_path / "o" / "statements" / "ev-01_2026-06.json").read_text())
    assert one["energy_credit_usd"] == pytest.approx(0.5 * one["credited_kwh"])


def test_settle_json_writes_no_files(tmp_path, monkeypatch, capsys):
    code, out, _ = run(["settle", "--telemetry", TEL, "--events", EV, "--json"], monkeypatch, capsys)
    assert code == 0
    doc = json.loads(out)
    assert [e["event_id"] for e in doc["events"]] == ["pk-1", "pk-2", "ci-1", "cpf-1"]
    assert doc["eligibility"]["n_eligible"] == 5
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t, e: (t.drop(columns="p_kw"), e), "missing column"),
        (lambda t, e: (pd.concat([t, t.iloc[:1]]), e), "duplicate intervals"),
        (lambda t, e: (t, e.assign(site_ids="bat-01;nobody")), "unknown site"),
        (lambda t, e: (t, e.assign(start=e["start"].str.replace(":00:00-04", ":07:00-04"))), "misaligned"),
        (lambda t, e: (t, e.assign(price_usd_per_mwh=-5.0)), "price_usd_per_mwh"),
    ],
)
def test_bad_input_is_one_line_naming_the_column(tmp_path, monkeypatch, capsys, edit, message):
    t, e = edit(pd.read_csv(TEL), pd.read_csv(EV))
    t.to_csv(tmp_path / "t.csv", index=False)
    e.to_parquet(tmp_path / "e.parquet")
    code, _, err = run(
        ["settle", "--telemetry", "t.csv", "--events", "e.parquet", "--json"], monkeypatch, capsys
    )
    assert code == 2
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_missing_file_and_bad_month(monkeypatch, capsys):
    code, _, err = run(["settle", "--telemetry", "nope.csv", "--events", EV], monkeypatch, capsys)
    assert code == 2 and "--telemetry" in err
    code, _, err = run(
        ["settle", "--telemetry", TEL, "--events", EV, "--month", "2026-13"], monkeypatch, capsys
    )
    assert code == 2 and "--month" in err


def test_settle_with_a_program_file(tmp_path, monkeypatch, capsys):
    from importlib import resources

    text = resources.files("openvpp.data").joinpath("bundled/settlement_program_chile.toml").read_text()
    (tmp_path / "p.toml").write_text(text.replace("kw_month = 2.33242", "kw_month = 0.0"))
    code, _, err = run(
        ["settle", "--telemetry", TEL, "--events", EV, "--program", "p.toml", "--out", "o"],
        monkeypatch,
        capsys,
    )
    assert code == 0, err
    st = pd.read_csv(tmp_path / "o" / "settlement_statements.csv")
    assert (st["capacity_credit_usd"] == 0).all()
    (tmp_path / "bad.toml").write_text(text.replace("cap_low = 0.8", "cap_low = 1.5"))
    code, _, err = run(
        ["settle", "--telemetry", TEL, "--events", EV, "--program", "bad.toml", "--json"], monkeypatch, capsys
    )
    assert code == 2 and "cap_low" in err
