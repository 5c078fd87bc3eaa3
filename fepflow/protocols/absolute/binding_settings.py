"""Settings and presets of the absolute binding protocol, with units in every field name.

The complex leg's schedule has three lambdas per state: ``restraints`` (0 -> 1, the Boresch restraint
switched on while the ligand still interacts), then ``electrostatics`` (1 -> 0), then ``sterics``
(1 -> 0, softcore), the restraint fully on wherever anything is decoupled. The solvent leg is the
absolute hydration protocol's decoupling (:class:`~fepflow.protocols.absolute.settings.LambdaSchedule`).
"""

from __future__ import annotations

import itertools
from typing import Any

from pydantic import Field, model_validator

from fepflow.models.base import ModelError
from fepflow.protocols.absolute.settings import PRODUCTION as HYDRATION_PRODUCTION
from fepflow.protocols.absolute.settings import LambdaSchedule
from fepflow.protocols.common.settings import (
    MAX_EQUILIBRATION_PS,
    MAX_STATES,
    SMOKE_SIMULATION,
    ChemistrySettings,
    SettingsSection,
)

_RESTRAINT_ON = (0.0, 0.25, 0.5, 0.75, 1.0)
_CHARGES_OFF = (0.75, 0.5, 0.25, 0.0)
_STERICS_OFF = (0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0)
DEFAULT_COMPLEX_RESTRAINTS = _RESTRAINT_ON + (1.0,) * (len(_CHARGES_OFF) + len(_STERICS_OFF))
DEFAULT_COMPLEX_ELECTROSTATICS = (1.0,) * len(_RESTRAINT_ON) + _CHARGES_OFF + (0.0,) * len(_STERICS_OFF)
DEFAULT_COMPLEX_STERICS = (1.0,) * (len(_RESTRAINT_ON) + len(_CHARGES_OFF)) + _STERICS_OFF


class ComplexLambdaSchedule(SettingsSection):
    """One entry per state of the complex leg: state 0 unrestrained and coupled, the last restrained
    and decoupled."""

    restraints: tuple[float, ...] = Field(
        DEFAULT_COMPLEX_RESTRAINTS, max_length=MAX_STATES, description="λ_restraints per state"
    )
    electrostatics: tuple[float, ...] = Field(
        DEFAULT_COMPLEX_ELECTROSTATICS, max_length=MAX_STATES, description="λ_elec per state"
    )
    sterics: tuple[float, ...] = Field(
        DEFAULT_COMPLEX_STERICS, max_length=MAX_STATES, description="λ_sterics per state"
    )

    @model_validator(mode="after")
    def _valid(self) -> ComplexLambdaSchedule:
        LambdaSchedule(electrostatics=self.electrostatics, sterics=self.sterics)  # the decoupling's own rules
        restraints = self.restraints
        if len(restraints) != len(self.electrostatics):
            raise ModelError(
                f"lambda schedule lengths differ: {len(restraints)} restraints, {len(self.electrostatics)} "
                "electrostatics"
            )
        if restraints[0] != 0.0 or restraints[-1] != 1.0:
            raise ModelError("λ_restraints must go from 0 (first state) to 1 (last state)")
        if any(not 0.0 <= x <= 1.0 for x in restraints) or any(
            b < a for a, b in itertools.pairwise(restraints)
        ):
            raise ModelError("λ_restraints values must lie in [0, 1] and never decrease")
        for i, (r, e, s) in enumerate(zip(restraints, self.electrostatics, self.sterics, strict=True)):
            if r < 1.0 and (e < 1.0 or s < 1.0):
                raise ModelError(
                    f"state {i}: the ligand is being decoupled while the restraint is not fully on "
                    f"(λ_restraints={r}); switch the restraint on first"
                )
        return self

    @property
    def n_states(self) -> int:
        return len(self.restraints)


class RestraintSettings(SettingsSection):
    """How the Boresch restraint is chosen: a short equilibrium run of the complex, then its anchors."""

    equilibration_ps: float = Field(
        200.0, gt=0, le=MAX_EQUILIBRATION_PS, description="NPT run the anchors are chosen from, ps"
    )
    frames: int = Field(100, ge=2, le=10_000, description="frames recorded over that run")
    reach_nm: float = Field(
        1.2, gt=0.2, le=3.0, description="receptor anchors lie within this of the ligand's"
    )
    min_angle_deg: float = Field(
        30.0, ge=5.0, le=80.0, description="no anchor angle within this of 0° or 180° in any frame"
    )
    max_pose_distance_nm: float = Field(
        0.6, gt=0, le=2.0, description="some ligand heavy atom lies within this of a protein atom"
    )


class AbsoluteBindingSettings(ChemistrySettings):
    """Everything that defines an absolute binding free energy calculation."""

    complex_lambdas: ComplexLambdaSchedule = Field(default_factory=ComplexLambdaSchedule)
    solvent_lambdas: LambdaSchedule = Field(default_factory=LambdaSchedule)
    restraint: RestraintSettings = Field(default_factory=RestraintSettings)


PRODUCTION: dict[str, Any] = {**HYDRATION_PRODUCTION}
"""TIP3P with ions, PME, NPT, 4 fs with HMR, 5 ns per state, restraint chosen from 200 ps: for GPUs."""
FAST: dict[str, Any] = {
    "simulation": {
        "timestep_fs": 4.0,
        "hydrogen_mass_amu": 3.0,
        "steps_per_iteration": 250,
        "equilibration_ps": 20.0,
        "production_iterations": 100,
        "checkpoint_interval_iterations": 50,
    },
    "system": {"solvent_model": "tip3p", "solvent_padding_nm": 1.0, "nonbonded_cutoff_nm": 0.9},
    "restraint": {"equilibration_ps": 20.0, "frames": 50},
    "repeats": 1,
}
"""TIP3P, 1.0 nm padding, 100 ps per state after 20 ps of NPT; restraint chosen from 20 ps."""
SMOKE: dict[str, Any] = {
    "complex_lambdas": {
        "restraints": [0.0, 1.0, 1.0, 1.0],
        "electrostatics": [1.0, 1.0, 0.0, 0.0],
        "sterics": [1.0, 1.0, 1.0, 0.0],
    },
    "solvent_lambdas": {"electrostatics": [1.0, 0.0, 0.0], "sterics": [1.0, 1.0, 0.0]},
    "simulation": SMOKE_SIMULATION,
    "system": {"solvent_padding_nm": 0.6, "nonbonded_cutoff_nm": 0.6},
    "restraint": {"equilibration_ps": 0.1, "frames": 5},
    "repeats": 1,
}
"""Mechanics only, numbers meaningless: 4 complex and 3 solvent states, 4 iterations of 10 steps of
2 fs, 0.6 nm of water, the restraint chosen from 0.1 ps."""
