"""`openvpp envelopes compute|metrics|hosting|network`: network limits (seed 001 §2-§4)."""

from __future__ import annotations

from pathlib import Path

import typer

from openvpp.cli.common import (
    JSON_OPTION,
    OUT_DIR_OPTION,
    console,
    emit,
    envelopes_app,
    print_json,
    run_with_progress,
)

_ENV_LOCATION_OPTION = typer.Option("adelaide", help="adelaide or santiago (sun times, PV, seasons).")
_ENV_TRANSFORMERS_OPTION = typer.Option(300, help="Transformers in the SimBench-derived population.")
_ENV_MARGIN_OPTION = typer.Option(0.8, "--margin", "-m", help="Confidence margin m in [0, 1].")
_ENV_SEED_OPTION = typer.Option(0, help="Seed of the transformer population.")
_ENV_WORKERS_OPTION = typer.Option(None, help="Run the sweep on a Dask LocalCluster with N workers.")
_ENV_SCHEDULER_OPTION = typer.Option(None, help="Address of a running Dask scheduler.")

@envelopes_app.command("compute")
def envelopes_compute(
    location: str = _ENV_LOCATION_OPTION,
    transformers: int = _ENV_TRANSFORMERS_OPTION,
    margin: float = _ENV_MARGIN_OPTION,
    scenario: str = typer.Option("Jan-non-workday", help="Scenario for the figure and --envelopes."),
    envelopes: Path | None = typer.Option(None, help="Write the node envelopes (CSIP-AUS JSON) here."),
    seed: int = _ENV_SEED_OPTION,
    out: Path = OUT_DIR_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Raw and mediated limits for the 25 day-type scenarios (seed 001 §2.2)."""
    from openvpp.report import check_out_dir
    from openvpp.studies.envelopes import check_study_inputs, run_envelope_study, scenario_envelopes

    check_study_inputs(location, transformers, margin, seed, scenario=scenario)
    if envelopes is not None:
        check_out_dir(envelopes.parent, "--envelopes")
    result = run_with_progress(
        "constraint engine", out, as_json, run_envelope_study, location, transformers, margin, seed=seed
    )
    inputs = result.inputs
    assert inputs is not None  # run_envelope_study keeps its inputs (only synthetic hosting runs drop them)
    if envelopes is not None:
        envelopes.parent.mkdir(parents=True, exist_ok=True)
        envelopes.write_text(scenario_envelopes(inputs, scenario, margin).to_json())
    if as_json:
        sw = result.sweep
        print_json({
            "location": result.location, "scenarios": list(inputs.scenarios.names),
            "mediated_per_site_kw_mean": sw.mediated_per_site_kw.mean(1).round(4).tolist(),
            "raw_per_site_kw_mean": sw.raw_per_site_kw.mean(1).round(4).tolist(),
        })
        return
    from openvpp.report.envelopes import render_compute

    render_compute(result, scenario, out, console)
    if envelopes is not None:
        console.print(f"wrote {envelopes}")


@envelopes_app.command("metrics")
def envelopes_metrics(
    location: str = _ENV_LOCATION_OPTION,
    transformers: int = _ENV_TRANSFORMERS_OPTION,
    margin: float = _ENV_MARGIN_OPTION,
    seed: int = _ENV_SEED_OPTION,
    workers: int | None = _ENV_WORKERS_OPTION,
    scheduler: str | None = _ENV_SCHEDULER_OPTION,
    out: Path = OUT_DIR_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Available/released energy, average available capacity and the seed's findings (seed 001 §2.4, §3)."""
    from openvpp.studies.envelopes import check_study_inputs, run_envelope_study

    check_study_inputs(location, transformers, margin, seed, workers, scheduler)
    result = run_with_progress(
        "capacity metrics", out, as_json, run_envelope_study, location, transformers, margin, seed=seed,
        workers=workers, scheduler=scheduler,
    )
    from openvpp.report.envelopes import render_metrics

    emit(as_json, result.to_dict, lambda: render_metrics(result, out, console))


@envelopes_app.command("hosting")
def envelopes_hosting(
    transformers: int = typer.Option(2000, help="Transformers (75530 for SAPN's network size)."),
    synthetic: bool = typer.Option(False, help="Synthetic inputs (any size), not SimBench-derived ones."),
    location: str = typer.Option("adelaide", help="adelaide or santiago."),
    margin: float = _ENV_MARGIN_OPTION,
    seed: int = typer.Option(0, help="Seed of the inputs."),
    workers: int | None = _ENV_WORKERS_OPTION,
    scheduler: str | None = _ENV_SCHEDULER_OPTION,
    out: Path = OUT_DIR_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Hosting capacity vs % of the year unconstrained (seed 001 §4, Figure 21, Table 6)."""
    from openvpp.studies.envelopes import check_study_inputs, run_hosting_study

    check_study_inputs(location, transformers, margin, seed, workers, scheduler)
    result = run_with_progress(
        "hosting capacity", out, as_json, run_hosting_study, transformers, synthetic, location, margin,
        seed=seed, workers=workers, scheduler=scheduler,
    )
    from openvpp.report.envelopes import render_hosting

    emit(as_json, result.to_dict, lambda: render_hosting(result, out, console))


@envelopes_app.command("network")
def envelopes_network(
    grid: str = typer.Option("1-LV-rural1--2-sw", help="SimBench LV grid code."),
    day: str = typer.Option("2016-06-15", help="Day of the SimBench profile year 2016."),
    fairness: str = typer.Option("equal", help="equal, proportional or maxmin."),
    v_min: float = typer.Option(0.9, help="Lowest phase voltage, pu."),
    v_max: float = typer.Option(1.1, help="Highest phase voltage, pu."),
    loading_max: float = typer.Option(1.0, help="Largest line / transformer loading (1 = rating)."),
    cap_kw: float | None = typer.Option(None, help="Largest envelope of a site, kW (default: none)."),
    margin: float = typer.Option(0.8, "--margin", "-m", help="Confidence margin m of the SAPN heuristic."),
    out: Path = OUT_DIR_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Per-site export/import envelopes from the exact power flow, compared with the SAPN heuristic."""
    from openvpp.envelopes.network_envelopes import compare_with_heuristic
    from openvpp.report import check_out_dir

    if not as_json:
        check_out_dir(out)
    result = compare_with_heuristic(grid, day, fairness, v_min, v_max, loading_max, cap_kw, m=margin)
    from openvpp.report.envelopes import render_network

    emit(as_json, result.summary, lambda: render_network(result, out, console))
