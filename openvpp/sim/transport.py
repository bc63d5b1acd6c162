"""The transport between the controller and the devices, and the in-process one with delays and drop-outs.

:class:`Transport` is the interface the controller's loop uses whatever carries the messages; the MQTT
implementation (``openvpp.platform.gateway``) follows the same protocol. :class:`InProcessTransport` is the
co-simulation's: each device has its own communication delay (drawn once from a log-normal distribution,
the same delay down- and up-link), each message to or from a device is lost with a drop-out probability, and
a share of the devices can be offline for the whole run (they never answer). Seed 000 §9 asks for the
communication delay per DER as a pilot KPI; :attr:`InProcessTransport.delay_s` is that distribution.

Sign convention: load convention (+ = import / charging) for every power carried.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from openvpp.checks import check_seed
from openvpp.control.signals import (
    EnvelopeUpdate,
    Instruction,
    Measurements,
    Outage,
    Setpoints,
    Signals,
    as_time,
)
from openvpp.errors import ValidationError

__all__ = ["InProcessTransport", "LinkModel", "Transport"]

_NS_PER_S = 1e9
#: consecutive lost readings after which a device counts as offline
MISSES_OFFLINE = 2


@runtime_checkable
class Transport(Protocol):
    """What the controller's loop needs from a transport (in-process here, MQTT in the platform)."""

    def send(self, setpoints: Setpoints) -> None:
        """Send set-points to the devices (fire and forget).

        Parameters
        ----------
        setpoints : Setpoints
            The set-points of this tick.
        """

    def receive(self, now: pd.Timestamp) -> Measurements:
        """The latest telemetry that has arrived at the controller by ``now``.

        Parameters
        ----------
        now : pandas.Timestamp
            The controller's clock.
        """

    def poll_signals(self, now: pd.Timestamp) -> Signals:
        """Signals (frequency, instructions, envelopes, outages) that arrived by ``now``.

        Parameters
        ----------
        now : pandas.Timestamp
            The controller's clock.
        """


@dataclasses.dataclass(frozen=True)
class LinkModel:
    """Per-device communication delay and drop-out distribution.

    The delay of each device is ``min(median_s x exp(sigma x z), max_s)`` with ``z`` standard normal (a
    log-normal: median ``median_s``); each message is lost independently with ``drop_prob``; a share
    ``offline_share`` of devices never answers. Defaults: a 4G / internet link of about 1 s median, 0.5
    log-spread, at most 5 s, 1 % of messages lost, every device reachable.

    Parameters
    ----------
    median_s : float
        Median one-way delay. [s]
    sigma : float
        Log-normal shape (spread of the delays). [-]
    max_s : float
        Largest delay (a message later than this counts as lost). [s]
    drop_prob : float
        Probability that one message is lost, in [0, 1). [-]
    offline_share : float
        Share of devices offline for the whole run, in [0, 1]. [-]
    """

    median_s: float = 1.0
    sigma: float = 0.5
    max_s: float = 5.0
    drop_prob: float = 0.01
    offline_share: float = 0.0

    def __post_init__(self) -> None:
        checks = {
            "median_s": (self.median_s, 0.0, np.inf),
            "sigma": (self.sigma, 0.0, 10.0),
            "max_s": (self.max_s, 0.0, 3600.0),
            "drop_prob": (self.drop_prob, 0.0, 0.999),
            "offline_share": (self.offline_share, 0.0, 1.0),
        }
        for name, (v, lo, hi) in checks.items():
            if not np.isfinite(v) or not lo <= v <= hi:
                raise ValidationError(f"link.{name} must lie in [{lo}, {hi}] (got {v})")
        if self.max_s < self.median_s:
            raise ValidationError(f"link.max_s ({self.max_s}) must be >= link.median_s ({self.median_s})")

    def draw_delays(self, n: int, rng: np.random.Generator) -> NDArray[np.float64]:
        """One delay per device. [s]

        Parameters
        ----------
        n : int
            Number of devices. [-]
        rng : numpy.random.Generator
            Source of randomness.
        """
        z = rng.standard_normal(n)
        return np.minimum(self.median_s * np.exp(self.sigma * z), self.max_s)


class InProcessTransport:
    """In-process transport with per-device delays and drop-outs (deterministic for a given seed).

    The controller side calls :meth:`send`, :meth:`receive` and :meth:`poll_signals`; the device side (the
    simulator) calls :meth:`deliver` to read the set-point each device is applying now and :meth:`report`
    to publish its readings; the scenario player calls :meth:`post_signals`.

    Parameters
    ----------
    device_ids : sequence of str
        The devices reachable through this transport.
    link : LinkModel
        Delay and drop-out distribution.
    seed : int or numpy.random.Generator
        Randomness of delays and losses.
    """

    def __init__(
        self,
        device_ids: tuple[str, ...] | list[str],
        link: LinkModel | None = None,
        seed: int | np.random.Generator = 0,
    ) -> None:
        seed = check_seed(seed)
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.device_ids = device_ids if isinstance(device_ids, tuple) else tuple(str(i) for i in device_ids)
        self.link = link or LinkModel()
        n = len(self.device_ids)
        self.delay_s = self.link.draw_delays(n, self.rng)
        self.offline = self.rng.random(n) < self.link.offline_share
        self._delay_ns = (self.delay_s * _NS_PER_S).astype(np.int64)
        # down-link: messages in flight (send time [ns], p [kW], lost mask)
        self._down: deque[tuple[int, NDArray[np.float64], NDArray[np.bool_], int]] = deque()
        self.applied_kw = np.full(n, np.nan)
        self.applied_since_ns = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
        self._applied_until_ns = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        # up-link: readings in flight
        self._up: deque[
            tuple[int, NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_]]
        ] = deque()
        self._misses = np.zeros(n, dtype=np.int64)
        self._seen_p = np.full(n, np.nan)
        self._seen_soc = np.full(n, np.nan)
        self._seen_ns = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
        self._signals: list[Signals] = []
        self.sent = 0
        self.lost = 0

    @property
    def n(self) -> int:
        """Number of devices."""
        return len(self.device_ids)

    # ------------------------------------------------------------------ controller side
    def send(self, setpoints: Setpoints) -> None:
        """Queue set-points; each device receives them after its delay unless the message is lost.

        Parameters
        ----------
        setpoints : Setpoints
            Must address exactly this transport's devices, in order.
        """
        if setpoints.device_ids is not self.device_ids and setpoints.device_ids != self.device_ids:
            raise ValidationError(
                "setpoints.device_ids must list the transport's devices in order "
                f"({self.n} devices); got {len(setpoints.device_ids)}"
            )
        lost = (self.rng.random(self.n) < self.link.drop_prob) | self.offline
        self.sent += self.n
        self.lost += int(lost.sum())
        self._down.append((setpoints.time.value, setpoints.p_kw, lost, setpoints.valid_until.value))

    def receive(self, now: pd.Timestamp) -> Measurements:
        """The latest reading of each device that has arrived by ``now``.

        A device counts as offline when it has never answered or when its last ``MISSES_OFFLINE`` readings
        that were due by ``now`` were all lost.

        Parameters
        ----------
        now : pandas.Timestamp
            The controller's clock.
        """
        t = as_time(now, "now").value
        for t_ns, p, soc, lost, done in self._up:
            due = (t_ns + self._delay_ns <= t) & ~done
            if not due.any():
                continue
            arrived = due & ~lost & (t_ns > self._seen_ns)
            self._seen_p = np.where(arrived, p, self._seen_p)
            self._seen_soc = np.where(arrived, soc, self._seen_soc)
            self._seen_ns = np.where(arrived, t_ns, self._seen_ns)
            self._misses = np.where(due & lost, self._misses + 1, np.where(due, 0, self._misses))
            done |= due
        while self._up and self._up[0][4].all():
            self._up.popleft()
        online = ~np.isnan(self._seen_p) & ~self.offline & (self._misses < MISSES_OFFLINE)
        return Measurements(
            time=now,
            device_ids=self.device_ids,
            p_kw=self._seen_p.copy(),
            soc=np.clip(self._seen_soc, 0.0, 1.0),
            online=online,
        )

    def poll_signals(self, now: pd.Timestamp) -> Signals:
        """Signals posted so far, merged into one (the latest frequency sample wins); clears the queue.

        Parameters
        ----------
        now : pandas.Timestamp
            The controller's clock.
        """
        posted, self._signals = self._signals, []
        freq = None
        ins: list[Instruction] = []
        env: list[EnvelopeUpdate] = []
        out: list[Outage] = []
        for s in posted:
            freq = s.frequency or freq
            ins += s.instructions
            env += s.envelopes
            out += s.outages
        return Signals(frequency=freq, instructions=tuple(ins), envelopes=tuple(env), outages=tuple(out))

    # ------------------------------------------------------------------ device side
    def post_signals(self, signals: Signals) -> None:
        """Make signals available to the controller's next :meth:`poll_signals`.

        Parameters
        ----------
        signals : Signals
            Frequency sample, instructions, envelopes or outages.
        """
        self._signals.append(signals)

    def deliver(self, now: pd.Timestamp) -> NDArray[np.float64]:
        """The set-point each device applies at ``now``: the newest message that reached it (NaN: none, or
        the last one expired — the device then follows its local settings).

        Parameters
        ----------
        now : pandas.Timestamp
            The simulation clock.

        Returns
        -------
        numpy.ndarray, shape (n_devices,)
            Set-point in force, load convention. [kW]
        """
        t = as_time(now, "now").value
        keep: deque[tuple[int, NDArray[np.float64], NDArray[np.bool_], int]] = deque()
        horizon = int(self.link.max_s * _NS_PER_S)
        for t_ns, p, lost, until in self._down:
            arrived = (t_ns + self._delay_ns <= t) & ~lost & (t_ns > self.applied_since_ns)
            self.applied_kw = np.where(arrived, p, self.applied_kw)
            self.applied_since_ns = np.where(arrived, t_ns, self.applied_since_ns)
            self._applied_until_ns = np.where(arrived, until, self._applied_until_ns)
            if t_ns + horizon >= t:
                keep.append((t_ns, p, lost, until))
        self._down = keep
        return np.where(self._applied_until_ns >= t, self.applied_kw, np.nan)

    def report(self, measurements: Measurements) -> None:
        """Publish device readings; each reaches the controller after the device's delay unless lost.

        Parameters
        ----------
        measurements : Measurements
            Readings of this transport's devices, in order.
        """
        if measurements.device_ids is not self.device_ids and measurements.device_ids != self.device_ids:
            raise ValidationError("measurements.device_ids must list the transport's devices in order")
        lost = (self.rng.random(self.n) < self.link.drop_prob) | self.offline
        self._up.append(
            (measurements.time.value, measurements.p_kw, measurements.soc, lost, np.zeros(self.n, dtype=bool))
        )
