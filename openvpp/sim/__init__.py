"""Co-simulation: clock, simulated devices, transport with delays and drop-outs, scenarios."""
