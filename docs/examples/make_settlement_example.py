"""Write the small settlement example used in docs/settlement.md (deterministic, seed 7).

Five households in Chile standard time (UTC-4), four weeks of 15-min site power from Monday 2026-06-01:
three with a 5 kW battery, one EV charger and one heat pump. Events in the fourth week: two peak reductions
(20:00-22:00) by the batteries, one interruptible-load event (18:00-20:00) by the EV and the heat pump, one
CPF+ (under-frequency) hour at 17:00 by the batteries.

    python docs/examples/make_settlement_example.py    # writes settlement_telemetry.csv,
    settlement_events.csv
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def main() -> None:
    rng = np.random.default_rng(7)
    index = pd.date_range("2026-06-01", periods=28 * 96, freq="15min", tz="Etc/GMT+4")
    hour = np.asarray(index.hour + index.minute / 60)
    evening = np.exp(-0.5 * ((hour - 20.0) / 2.0) ** 2)
    sites = {
        "bat-01": "battery",
        "bat-02": "battery",
        "bat-03": "battery",
        "ev-01": "ev",
        "hp-01": "heatpump",
    }
    p = (
        0.4
        + 1.2 * evening[None, :] * rng.uniform(0.8, 1.2, (5, 1))
        + 0.08 * rng.standard_normal((5, len(index)))
    )
    p[3, (hour >= 18) & (hour < 20)] += 7.0  # the EV charges 18-20 h every day
    p[4, (hour >= 17) & (hour < 22)] += 2.0  # the heat pump runs in the evening
    day = 96

    def span(d: int, h0: float, h1: float) -> slice:
        return slice(d * day + int(h0 * 4), d * day + int(h1 * 4))

    events = [
        ("pk-1", "peak_reduction", 22, 20, 22, 6.0, "bat-01;bat-02;bat-03"),
        ("pk-2", "peak_reduction", 24, 20, 22, 6.0, "bat-01;bat-02;bat-03"),
        ("ci-1", "ci", 23, 18, 20, 11.5, "ev-01;hp-01"),
        ("cpf-1", "cpf_plus", 25, 17, 18, 7.5, "bat-01;bat-02;bat-03"),
    ]
    p[0:3, span(22, 20, 22)] -= np.array([[2.2], [2.0], [1.2]])  # bat-03 under-delivers
    p[0:3, span(24, 20, 22)] -= 2.0
    p[3, span(23, 18, 20)] -= 7.0
    p[4, span(23, 18, 20)] -= 2.0
    p[0:3, span(25, 17, 18)] -= 2.5
    frame = pd.DataFrame(
        {
            "site_id": np.repeat(list(sites), len(index)),
            "time": np.tile(
                index.strftime("%Y-%m-%dT%H:%M:%S%z").str.replace(r"(\d\d)$", r":\1", regex=True), 5
            ),
            "p_kw": np.round(p.ravel(), 3),
            "device_class": np.repeat(list(sites.values()), len(index)),
        }
    )
    frame.to_csv(HERE / "settlement_telemetry.csv", index=False)
    rows = []
    for eid, svc, d, h0, h1, kw, ids in events:
        t0 = index[0] + pd.Timedelta(days=d, hours=h0)
        t1 = index[0] + pd.Timedelta(days=d, hours=h1)
        rows.append(
            {
                "event_id": eid,
                "service": svc,
                "start": t0.isoformat(),
                "end": t1.isoformat(),
                "committed_kw": kw,
                "site_ids": ids,
            }
        )
    pd.DataFrame(rows).to_csv(HERE / "settlement_events.csv", index=False)


if __name__ == "__main__":
    main()
