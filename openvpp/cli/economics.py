"""`openvpp study economics|dynamics|finance|potential`: the business case (seed 000 §6, §8; 001 §5.5)."""

from __future__ import annotations

from pathlib import Path

import typer

from openvpp.cli.common import JSON_OPTION, OUT_DIR_OPTION, console, emit, study_app


@study_app.command("economics")
def study_economics(
    site: str = typer.Option("lampa", help="Site parameter set: lampa or osorno (seed 000 Tables 3-5)."),
    mw: list[float] = typer.Option(None, "--mw", help="Battery sizes in MW, e.g. --mw 1 3 5 "),
    more_mw: list[str] = typer.Argument(None, hidden=True, help="Further sizes after --mw."),
    out: Path = OUT_DIR_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Stacked-service business model: revenue per service, cost, profit, threshold, tornado."""
    from openvpp.errors import ValidationError
    from openvpp.report import check_out_dir
    from openvpp.studies.chile_economics import check_sizes_mw, run_economics

    extra = []
    for v in more_mw or []:
        try:
            extra.append(float(v))
        except ValueError:
            raise ValidationError(f"--mw takes battery sizes in MW, e.g. --mw 1 3 5 (got {v!r})") from None
    sizes = [*(mw or []), *extra] or [1.0, 3.0, 5.0]
    check_sizes_mw(sizes, "--mw")
    if not json_out:
        check_out_dir(out)
    study = run_economics(site=site, mw=sizes, mw_name="--mw")
    from openvpp.report.economics import render_economics

    emit(json_out, study.to_dict, lambda: render_economics(study, out_dir=out, console=console))


@study_app.command("dynamics")
def study_dynamics(
    out: Path = OUT_DIR_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Ten-year system-dynamics model of a rural VPP (seed 000 §6.2, Figs 11-12)."""
    from openvpp.report import check_out_dir
    from openvpp.studies.chile_economics import run_dynamics_study

    if not json_out:
        check_out_dir(out)
    study = run_dynamics_study()
    from openvpp.report.economics import render_dynamics

    emit(json_out, study.to_dict, lambda: render_dynamics(study, out_dir=out, console=console))


@study_app.command("finance")
def study_finance(
    convention: str = typer.Option("annuity_due", help="Discounting: annuity_due or end_of_year."),
    out: Path = OUT_DIR_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """NPV, BCR and payback of the CSIRO export-limit cases (seed 001 Table 9)."""
    from openvpp.errors import ValidationError
    from openvpp.report import check_out_dir
    from openvpp.studies.csiro_finance import run_finance_study

    if convention not in ("annuity_due", "end_of_year"):
        raise ValidationError(f"--convention must be annuity_due or end_of_year (got {convention!r})")
    if not json_out:
        check_out_dir(out)
    study = run_finance_study(convention)  # type: ignore[arg-type]
    from openvpp.report.economics import render_finance

    emit(json_out, study.to_dict, lambda: render_finance(study, out_dir=out, console=console))


@study_app.command("potential")
def study_potential(
    medium_share: float = typer.Option(None, help="Hosting share, medium density (default 0.21)."),
    low_share: float = typer.Option(None, help="Hosting share, low density (default 0.25)."),
    out: Path = OUT_DIR_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """National VPP potential in GW per resource (seed 000 §8, Fig. 22)."""
    from openvpp.report import check_out_dir
    from openvpp.studies.chile_economics import run_potential_study

    shares = {k: v for k, v in (("medium", medium_share), ("low", low_share)) if v is not None}
    if not json_out:
        check_out_dir(out)
    study = run_potential_study(hosting_share=shares or None)
    from openvpp.report.economics import render_potential

    emit(json_out, study.to_dict, lambda: render_potential(study, out_dir=out, console=console))
