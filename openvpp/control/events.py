"""Operator events: which devices an instruction may use, the overlap check, and the planned rebound.

Seed 000 §6.1 Table 1 names the events the pilot (§9) must execute: interruptible-load (CI) curtailment by EVs
and heat pumps within 30 min for about 2 h, peak reduction by batteries at 20:00-22:00, and tracking of a
requested curve; explainer 002 adds the customer constraint that the energy a device gave up is given back
(an EV is still charged by morning). Each :class:`~openvpp.control.signals.Instruction` ramps from the plan to
its change, holds, and ramps back; the energy each device moved away from its plan is then returned over a
**rebound** window (planned when the release ends, constant power per device within its range) after which
every device is exactly on its plan again.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from openvpp.control.signals import Instruction
from openvpp.errors import ValidationError

__all__ = ["ELIGIBLE_CLASSES", "SERVICE_OF_KIND", "EventRecord", "Rebound", "check_overlaps", "targets_of"]

#: DER classes that take part in each instruction kind
ELIGIBLE_CLASSES: dict[str, tuple[str, ...]] = {
    "ci": ("ev", "heatpump", "waterheater", "flexload"),
    "peak": ("battery", "ev", "flexload"),
    "track": ("battery", "ev", "heatpump", "waterheater", "flexload", "pv"),
}
#: the plan's service key that reserves capacity for each instruction kind
SERVICE_OF_KIND = {"ci": "ci", "peak": "peak", "track": "track"}


def targets_of(
    ins: Instruction,
    device_ids: NDArray[np.object_],
    device_class: NDArray[np.object_],
    site_ids: NDArray[np.object_],
    site_of_device: NDArray[np.int64],
    ccp_of_device: NDArray[np.object_] | None = None,
) -> NDArray[np.bool_]:
    """Devices an instruction addresses: eligible class and, when given, the named devices / sites / CCP.

    Parameters
    ----------
    ins : Instruction
        The instruction.
    device_ids, device_class : numpy.ndarray of str, shape (n_devices,)
        Plan devices and their classes (text). [-]
    site_ids : numpy.ndarray of str, shape (n_sites,)
        Plan sites (text). [-]
    site_of_device : numpy.ndarray of int, shape (n_devices,)
        Site position of each device. [-]
    ccp_of_device : numpy.ndarray of str, optional
        CCP of each device, needed when the instruction names one (text). [-]

    Returns
    -------
    numpy.ndarray of bool, shape (n_devices,)
    """
    mask = np.isin(device_class, ELIGIBLE_CLASSES[ins.kind])
    if ins.device_ids:
        known = set(device_ids.tolist())
        unknown = [d for d in ins.device_ids if d not in known]
        if unknown:
            raise ValidationError(
                f"instruction {ins.id!r}: device_ids names devices not in the plan: {unknown[:5]}; "
                "use ids from the plan's device_ids"
            )
        mask &= np.isin(device_ids, ins.device_ids)
    if ins.site_ids:
        known_s = set(site_ids.tolist())
        unknown = [s for s in ins.site_ids if s not in known_s]
        if unknown:
            raise ValidationError(
                f"instruction {ins.id!r}: site_ids names sites not in the plan: {unknown[:5]}"
            )
        mask &= np.isin(site_ids[site_of_device], ins.site_ids)
    if ins.ccp is not None:
        if ccp_of_device is None or ins.ccp not in set(ccp_of_device.tolist()):
            raise ValidationError(f"instruction {ins.id!r}: ccp {ins.ccp!r} is not a CCP of the fleet")
        mask &= ccp_of_device == ins.ccp
    if not mask.any():
        raise ValidationError(
            f"instruction {ins.id!r} ({ins.kind}) addresses no eligible device; a {ins.kind!r} event uses "
            f"{list(ELIGIBLE_CLASSES[ins.kind])}"
        )
    return mask


def check_overlaps(
    instructions: list[Instruction], masks: list[NDArray[np.bool_]], capacity_kw: list[float]
) -> None:
    """Reject overlapping instructions on shared devices whose joint request exceeds those devices' range.

    Parameters
    ----------
    instructions : list of Instruction
        The instructions (with ``masks[i]`` the devices of ``instructions[i]``).
    masks : list of numpy.ndarray of bool
        Target devices of each.
    capacity_kw : list of float
        Range each instruction's targets offer in its direction at its start. [kW]
    """
    for a in range(len(instructions)):
        for b in range(a + 1, len(instructions)):
            ia, ib = instructions[a], instructions[b]
            if ia.start >= ib.release_end or ib.start >= ia.release_end or not np.any(masks[a] & masks[b]):
                continue
            need = abs(ia.delta_kw) + abs(ib.delta_kw)
            have = max(capacity_kw[a], capacity_kw[b])
            if need > have + 1e-9:
                raise ValidationError(
                    f"instructions {ia.id!r} and {ib.id!r} overlap in time on the same devices and ask for "
                    f"{need:.1f} kW together, but the plan leaves {have:.1f} kW on those devices; move one "
                    "instruction or reduce its delta_kw"
                )


@dataclasses.dataclass
class Rebound:
    """Energy given back after an event: constant power per device from ``start`` to ``end``.

    Attributes
    ----------
    event_id : str
        Instruction the rebound follows.
    start, end : pandas.Timestamp
        Rebound window.
    p_kw : numpy.ndarray, shape (n_devices,)
        Extra power per device during the window, load convention. [kW]
    energy_kwh : float
        Energy returned in total (sum of ``p_kw`` x window). [kWh]
    """

    event_id: str
    start: pd.Timestamp
    end: pd.Timestamp
    p_kw: NDArray[np.float64]
    energy_kwh: float

    @property
    def peak_kw(self) -> float:
        """Aggregate rebound power. [kW]"""
        return float(self.p_kw.sum())


@dataclasses.dataclass
class EventRecord:
    """What the controller did for one instruction (reported by the KPIs).

    Attributes
    ----------
    instruction : Instruction
        The event.
    n_targets : int
        Devices addressed. [-]
    shortfall_kw : float
        Largest shortfall of the disaggregation during the event. [kW]
    reason : str
        Reason of that shortfall (empty when always met).
    rebound : Rebound or None
        The planned rebound, once the release has ended.
    """

    instruction: Instruction
    n_targets: int
    shortfall_kw: float = 0.0
    reason: str = ""
    rebound: Rebound | None = None
