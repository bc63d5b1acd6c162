"""Timing of the economics models: a Table 4 case, the tornado, the ten-year dynamics, the threshold scan."""

from __future__ import annotations

from _timing import median_s

from openvpp.economics import business, dynamics, potential


def _median_s(fn, repeats: int = 7) -> float:
    return median_s(fn, repeats)


def main() -> None:
    inp = business.load_inputs("lampa")
    params = dynamics.load_dynamics_params()
    cases = [
        ("business case 1 MW (Table 4)", lambda: business.business_case_mw(inp, 1.0), 0.01),
        ("profitability threshold (100k-battery scan)", lambda: business.profitability_threshold(inp), 0.2),
        ("tornado, 10 parameters", lambda: business.tornado(inp), 0.5),
        ("dynamics, both scenarios, 10 years", lambda: dynamics.run_scenarios(params), 0.2),
        ("national potential + sensitivity", lambda: potential.hosting_share_sensitivity(), 0.1),
    ]
    print(f"{'case':48s} {'goal s':>8s} {'median s':>10s}")
    for name, fn, goal in cases:
        print(f"{name:48s} {goal:8.3f} {_median_s(fn):10.4f}")


if __name__ == "__main__":
    main()
