"""`openvpp envelopes compute|metrics|hosting|network`: network limits (seed 001 §2-§4)."""

from __future__ import annotations

from pathlib import Path

import typer

from openvpp.cli.common import (
    JSON_OPTION,
    OUT_DIR_OPTION,
    check_out_file,
    console,
    emit,
    envelopes_app,
    print_json,
    progress_bar,
    run_with_progress,
)

_ENV_LOCATION_OPTION = typer.Option("adelaide", help="adelaide or santiago (sun times, PV, seasons).")
_ENV_TRANSFORMERS_OPTION = typer.Option(300, help="Transformers in the SimBench-derived population.")
_ENV_MARGIN_OPTION = typer.Option(0.8, "--margin", "-m", help="Confidence margin m in [0, 1].")
_ENV_SEED_OPTION = typer.Option(0, help="Seed of the transformer population.")
_ENV_WORKERS_OPTION = typer.Option(None, help="Run the sweep on a Dask LocalCluster with N workers.")
_ENV_SCHEDULER_OPTION = typer.Option(
    None, help="Address of a running Dask scheduler (tcp://host:8786); not with --workers."
)

@envelopes_app.command("compute")
def envelopes_compute(
    location: str = _ENV_LOCATION_OPTION,
    transformers: int = _ENV_TRANSFORMERS_OPTION,
    margin: float = _ENV_MARGIN_OPTION,
    scenario: str = typer.Option("Jan-non-workday", help="Scenario for the figure, --envelopes and --json."),
    envelopes: Path | None = typer.Option(None, help="Write every node's envelopes (CSIP-AUS JSON) here."),
    nodes: int = typer.Option(
        5, help="Transformers whose CSIP-AUS envelopes --json prints (all of them: --envelopes)."
    ),
    seed: int = _ENV_SEED_OPTION,
    out: Path = OUT_DIR_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Raw and mediated limits for the 25 day-type scenarios, with CSIP-AUS envelopes (seed 001 §2.2)."""
    from openvpp.errors import ValidationError
    from openvpp.studies.envelopes import check_study_inputs, run_envelope_study, scenario_envelopes

    check_study_inputs(location, transformers, margin, seed, scenario=scenario, flags=True)
    if nodes < 0 or nodes > transformers:
        raise ValidationError(f"--nodes must lie in [0, --transformers = {transformers}] (got {nodes})")
    if envelopes is not None:
        check_out_file(envelopes, "--envelopes")
    result = run_with_progress(
        "constraint engine", out, as_json, run_envelope_study, location, transformers, margin, seed=seed
    )
    inputs = result.inputs
    assert inputs is not None  # run_envelope_study keeps its inputs (only synthetic hosting runs drop them)
    env = scenario_envelopes(inputs, scenario, margin)
    if envelopes is not None:
        envelopes.write_text(env.to_json())
    if as_json:
        from openvpp.envelopes.objects import EnvelopeSet

        sw = result.sweep
        shown = EnvelopeSet(env.subjects[:nodes], env.kind, env.start, env.duration_s,
                            env.limits_w[:, :nodes], env.default_w, env.created)
        print_json({
            "location": result.location, "scenarios": list(inputs.scenarios.names),
            "mediated_per_site_kw_mean": sw.mediated_per_site_kw.mean(1).round(4).tolist(),
            "raw_per_site_kw_mean": sw.raw_per_site_kw.mean(1).round(4).tolist(),
            "envelopes_scenario": scenario,
            "envelopes_nodes": f"{nodes} of {env.n_subjects} (--nodes; --envelopes FILE writes all)",
            "envelopes": shown.to_dict(),
            "envelopes_file": None if envelopes is None else str(envelopes),
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

    check_study_inputs(location, transformers, margin, seed, workers, scheduler, flags=True)
    result = run_with_progress(
        "capacity metrics", out, as_json, run_envelope_study, location, transformers, margin, seed=seed,
        workers=workers, scheduler=scheduler,
    )
    from openvpp.report.envelopes import render_metrics

    emit(as_json, result.to_dict, lambda: render_metrics(result, out, console))


@envelopes_app.command("hosting")
def envelopes_hosting(
    transformers: int = typer.Option(
        2000, help="Transformers (75530 for SAPN's network size; at most 10,000 SimBench-derived, "
        "1,000,000 --synthetic)."
    ),
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

    check_study_inputs(location, transformers, margin, seed, workers, scheduler, synthetic=synthetic,
                       flags=True)
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
    cap_kw: float | None = typer.Option(
        None, help="Largest envelope of a site, kW (default: each site's inverter limit, PV + 5 kW battery)."
    ),
    margin: float = typer.Option(0.8, "--margin", "-m", help="Confidence margin m of the SAPN heuristic."),
    export: Path | None = typer.Option(
        None, "--export", help="Write the per-site envelopes: .csv / .parquet (table) or .json (CSIP-AUS)."
    ),
    out: Path = OUT_DIR_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Per-site export/import envelopes from the exact power flow, compared with the SAPN heuristic."""
    from openvpp.envelopes.network_envelopes import compare_with_heuristic
    from openvpp.report import check_out_dir

    if export is not None:
        check_out_file(export, "--export", (".csv", ".parquet", ".json"))
    if not as_json:
        check_out_dir(out)
    prog, cb = progress_bar("network envelopes (feeder, power-flow search, heuristic, check)")
    with prog:
        result = compare_with_heuristic(grid, day, fairness, v_min, v_max, loading_max, cap_kw, m=margin,
                                        progress=cb)
    from openvpp.report.envelopes import render_network, write_site_envelopes

    if export is not None:
        write_site_envelopes(result, export)
    emit(as_json, result.summary, lambda: render_network(result, out, console))
    if export is not None and not as_json:
        console.print(f"wrote {export}")
