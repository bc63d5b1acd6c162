"""Real time: Controller, set-point disaggregation, droop frequency response, events, island mode, KPIs."""
