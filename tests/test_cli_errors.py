"""Bad input on the command line: a one-line message naming the field, exit code 2, no traceback.

Every case runs through :func:`openvpp.cli.main` (the ``openvpp`` entry point) and, except the ``opf`` file
cases, with SimBench loading disabled: the inputs must be rejected before any grid or profile is read.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import openvpp.data.simbench as simbench_data
from openvpp.checks import check_seed
from openvpp.cli import main
from openvpp.errors import ValidationError
from openvpp.report import check_out_dir


def run_main(args: list[str], monkeypatch: pytest.MonkeyPatch,
             capsys: pytest.CaptureFixture) -> tuple[int, str]:
    """Run the ``openvpp`` entry point with ``args``; return (exit code, stderr)."""
    monkeypatch.setattr(sys, "argv", ["openvpp", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    return exc.value.code, capsys.readouterr().err


@pytest.fixture(autouse=True)
def _in_tmp_dir(tmp_path, monkeypatch):
    """Run each command in a fresh folder so that no default ``openvpp-out`` lands in the repository."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def no_simbench(monkeypatch):
    """Make any SimBench load fail loudly (the inputs must be checked first)."""

    def refuse(code):
        raise AssertionError(f"SimBench grid {code!r} was loaded before the inputs were checked")

    monkeypatch.setattr(simbench_data, "_read_simbench_net", refuse)


@pytest.fixture
def unwritable(tmp_path):
    """A folder that cannot be created: its parent is a file."""
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    return str(blocker / "out")


# (arguments, text the message must contain); "{bad_out}" is replaced by an unwritable folder
EARLY_CASES = [
    (["demo", "--grid", "nope"], "grid"),
    (["demo", "--day", "2017-01-01"], "day must be a date in 2016"),
    (["demo", "--day", "2016-13-01"], "day must be a date in 2016"),
    (["demo", "--seed", "-1"], "seed"),
    (["demo", "--out", "{bad_out}"], "--out"),
    (["flex", "--fleet", "foo:1"], "--fleet"),
    (["flex", "--fleet", "synthetic:abc"], "fleet size"),
    (["flex", "--fleet", "synthetic:0"], "n_sites"),
    (["flex", "--horizon-h", "0"], "horizon_h"),
    (["flex", "--horizon-h", "-1"], "horizon_h"),
    (["flex", "--horizon-h", "nan"], "horizon_h"),
    (["flex", "--horizon-h", "inf"], "horizon_h"),
    (["flex", "--horizon-h", "1e6"], "horizon_h"),
    (["flex", "--time", "notatime"], "time"),
    (["flex", "--time", "2017-06-15 19:00"], "time must be a 15-min stamp"),
    (["flex", "--time", "2016-06-15 19:07"], "time must be a 15-min stamp"),
    (["flex", "--seed", "-1"], "seed"),
    (["flex", "--out", "{bad_out}"], "--out"),
    (["envelopes", "compute", "--location", "paris"], "location"),
    (["envelopes", "compute", "--margin", "-1"], "margin"),
    (["envelopes", "compute", "--margin", "nan"], "margin"),
    (["envelopes", "compute", "--margin", "1.5"], "margin"),
    (["envelopes", "compute", "--transformers", "0"], "n_transformers"),
    (["envelopes", "compute", "--scenario", "nope"], "scenario"),
    (["envelopes", "compute", "--seed", "-1"], "seed"),
    (["envelopes", "compute", "--out", "{bad_out}"], "--out"),
    (["envelopes", "metrics", "--workers", "0"], "workers"),
    (["envelopes", "metrics", "--scheduler", " "], "scheduler"),
    (["envelopes", "hosting", "--synthetic", "--margin", "2"], "margin"),
    (["envelopes", "hosting", "--synthetic", "--transformers", "-5"], "n_transformers"),
    (["envelopes", "network", "--grid", "nope"], "grid code"),
    (["envelopes", "network", "--day", "2017-01-01"], "day"),
    (["envelopes", "network", "--fairness", "best"], "fairness"),
    (["envelopes", "network", "--v-min", "1.2", "--v-max", "1.0"], "v_min_pu"),
    (["envelopes", "network", "--v-min", "nan"], "v_min_pu"),
    (["envelopes", "network", "--loading-max", "0"], "loading_max"),
    (["envelopes", "network", "--cap-kw", "-5"], "cap_kw"),
    (["envelopes", "network", "--margin", "nan"], "margin"),
    (["envelopes", "network", "--out", "{bad_out}"], "--out"),
    (["study", "economics", "--site", "mars"], "site"),
    (["study", "economics", "--mw", "-3"], "p_mw"),
    (["study", "economics", "--mw", "nan"], "p_mw"),
    (["study", "economics", "--mw", "1", "abc"], "--mw"),
    (["study", "economics", "--out", "{bad_out}"], "--out"),
    (["study", "dynamics", "--out", "{bad_out}"], "--out"),
    (["study", "finance", "--convention", "x"], "--convention"),
    (["study", "potential", "--medium-share", "1.5"], "--medium-share"),
    (["study", "potential", "--low-share", "nan"], "--low-share"),
    (["study", "chile-technical", "--networks", "mars"], "networks"),
    (["study", "chile-technical", "--networks", " , "], "networks"),
    (["study", "chile-technical", "--day", "2017-06-21"], "day"),
    (["study", "chile-technical", "--pv-day", "notaday"], "pv_day"),
    (["study", "chile-technical", "--share", "1.5"], "share"),
    (["study", "chile-technical", "--share", "nan"], "share"),
    (["study", "chile-technical", "--seed", "-1"], "seed"),
    (["study", "chile-technical", "--out", "{bad_out}"], "--out"),
    (["study", "flexibility-paper", "--out", "{bad_out}"], "--out"),
]


@pytest.mark.parametrize("args, field", EARLY_CASES, ids=lambda v: " ".join(v) if isinstance(v, list) else "")
@pytest.mark.usefixtures("no_simbench")
def test_bad_input_is_rejected_before_loading(args, field, unwritable, monkeypatch, capsys):
    args = [a.replace("{bad_out}", unwritable) for a in args]
    code, err = run_main(args, monkeypatch, capsys)
    assert code == 2, err
    assert err.startswith("error:"), err
    assert err.strip().count("\n") == 0, f"message must be one line: {err!r}"
    assert field in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "args, field",
    [
        (["demo", "--nope"], "--nope"),
        (["flex", "--horizon-h", "abc"], "--horizon-h"),
        (["envelopes", "compute", "--transformers", "1.5"], "--transformers"),
        (["nocommand"], "nocommand"),
    ],
)
def test_usage_errors_exit_2_without_traceback(args, field, monkeypatch, capsys):
    code, err = run_main(args, monkeypatch, capsys)
    assert code == 2, err
    assert field in err and "Traceback" not in err


# ---------------------------------------------------------------------------------------------- opf files
@pytest.fixture(scope="module")
def opf_files(tmp_path_factory, write_five_bus_feeder, write_opf_profiles):
    """A five-bus pandapower feeder with four houses and profile CSVs, good and bad."""
    d = tmp_path_factory.mktemp("opf_files")
    write_five_bus_feeder(d / "net.json")
    (d / "garbage.json").write_text("{not json")
    load, pv = write_opf_profiles(d, [f"house{k}" for k in range(1, 5)], n_pv_sites=2)
    index = load.index
    bad = load.copy()
    bad.iloc[2, 1] = np.nan
    bad.to_csv(d / "load_nan.csv")
    load.drop(columns="house2").to_csv(d / "load_missing_site.csv")
    pv.set_axis(index + pd.Timedelta("1h")).to_csv(d / "pv_shifted.csv")
    load.iloc[[0, 1, 3, 4, 5, 6, 7]].to_csv(d / "load_gap.csv")
    text = load.astype(object)
    text.iloc[2, 1] = "abc"
    text.to_csv(d / "load_text.csv")
    load.set_axis(range(8)).to_csv(d / "load_no_time.csv")
    return d


OPF_CASES = [
    (["{d}/missing.json", "--load", "{d}/load.csv"], "network file"),
    (["{d}/garbage.json", "--load", "{d}/load.csv"], "network file"),
    (["{d}/net.json", "--load", "{d}/missing.csv"], "load CSV"),
    (["{d}/net.json", "--load", "{d}/load_nan.csv"], "load CSV has a missing or infinite value"),
    (["{d}/net.json", "--load", "{d}/load_missing_site.csv"], "house2"),
    (["{d}/net.json", "--load", "{d}/load_text.csv"], "not numeric"),
    (["{d}/net.json", "--load", "{d}/load_no_time.csv"], "first column of the load CSV"),
    (["{d}/net.json", "--load", "{d}/load_gap.csv"], "time column of the load CSV"),
    (["{d}/net.json", "--load", "{d}/load.csv", "--pv", "{d}/pv_shifted.csv"], "load and pv CSVs"),
    (["{d}/net.json", "--load", "{d}/load.csv"], "--service"),  # 20:00 + 30 min holds no 3-h step
    (["{d}/net.json", "--load", "{d}/load.csv", "--service", "abc"], "--service"),
    (["{d}/net.json", "--load", "{d}/load.csv", "--service", "25:00"], "--service"),
    (["{d}/net.json", "--load", "{d}/load.csv", "--service-minutes", "-5"], "--service-minutes"),
    (["{d}/net.json", "--load", "{d}/load.csv", "--service-minutes", "nan"], "--service-minutes"),
    (["{d}/net.json", "--load", "{d}/load.csv", "--objective", "foo"], "objective"),
    (["{d}/net.json", "--load", "{d}/load.csv", "--v-min", "1.2", "--v-max", "1.0"], "v_min_pu"),
    (["{d}/net.json", "--load", "{d}/load.csv", "--v-source", "nan"], "v_source_pu"),
    (["{d}/net.json", "--load", "{d}/load.csv", "--batteries", ","], "--batteries"),
    (["{d}/net.json", "--load", "{d}/load.csv", "--batteries", "nowhere", "--service", "18:00"], "nowhere"),
]


@pytest.mark.parametrize("args, field", OPF_CASES, ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_opf_bad_files_and_options(args, field, opf_files, monkeypatch, capsys):
    args = ["opf", *(a.replace("{d}", str(opf_files)) for a in args)]
    code, err = run_main(args, monkeypatch, capsys)
    assert code == 2, err
    assert err.startswith("error:") and err.strip().count("\n") == 0, err
    assert field in err, err


# ---------------------------------------------------------------------------------------------- helpers
def test_check_out_dir(tmp_path, unwritable):
    target = tmp_path / "a" / "b"
    assert check_out_dir(target) == target
    assert not (tmp_path / "a").exists()  # nothing left behind
    with pytest.raises(ValidationError, match=r"--where folder .* is a file"):
        check_out_dir(unwritable, "--where")


def test_bad_input_leaves_no_output_folder(tmp_path, monkeypatch, capsys):
    code, _ = run_main(["study", "economics", "--mw", "-3"], monkeypatch, capsys)
    assert code == 2 and not (tmp_path / "openvpp-out").exists()


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True, None])
def test_check_seed_rejects(seed):
    with pytest.raises(ValidationError, match="seed must be a whole number"):
        check_seed(seed)


def test_check_seed_accepts():
    gen = np.random.default_rng(1)
    assert check_seed(gen) is gen
    assert check_seed(np.int64(3)) == 3


def test_the_installed_entry_point_prints_one_line():
    """The real process: exit code 2, one ``error:`` line on stderr, no traceback."""
    proc = subprocess.run(
        [sys.executable, "-m", "openvpp.cli", "flex", "--horizon-h", "nan"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: horizon_h"), proc.stderr
    usage = subprocess.run(
        [sys.executable, "-m", "openvpp.cli", "demo", "--no-such-option"],
        capture_output=True, text=True, timeout=120,
    )
    assert usage.returncode == 2 and "Traceback" not in usage.stderr and "--no-such-option" in usage.stderr
