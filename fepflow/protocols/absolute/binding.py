"""Absolute binding free energy: decouple a ligand from the protein (held by a Boresch restraint) and
from water; ΔG_bind from the two legs and the restraint's standard-state correction.

The thermodynamic cycle, with every sign stated here once:

    ΔG_complex   = G(ligand decoupled, restrained, in the complex) - G(bound, coupled, unrestrained)
                   (complex leg: restraint on, then charges off, then sterics off; MBAR state 0 -> last)
    ΔG_solvent   = G(ligand decoupled in water) - G(ligand coupled in water)    (solvent leg)
    ΔG_restraint = G(decoupled, free at 1 M) - G(decoupled, restrained)         (analytic, negative;
                   :mod:`fepflow.restraints.correction`)

    ΔG_bind = ΔG_solvent - ΔG_complex - ΔG_restraint

(unbinding = ΔG_complex + ΔG_restraint - ΔG_solvent). Units of one task (one repeat):

    setup    ligand parameters; the complex (ff14SB, TIP3P, ions; tleap), a short NPT run of it from
             which the restraint's anchors, equilibrium values and force constants are chosen
             (:mod:`fepflow.restraints.selection`); the ligand in a water box
    complex  multistate sampling over (λ_restraints, λ_elec, λ_sterics), NPT
    solvent  the absolute hydration protocol's decoupling in water, NPT
    analyse  MBAR per leg, ΔG_bind with its contributions, the restraint's geometry, plots, bundle

Presets: ``production`` (5 ns per state: for GPUs), ``fast`` (100 ps per state), ``smoke``
(mechanics only). Charged ligands are refused until net-charge corrections exist.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from fepflow.models.components import ProteinComponent, SmallMoleculeComponent
from fepflow.models.transformations import Transformation
from fepflow.protocols.absolute.binding_settings import FAST, PRODUCTION, SMOKE, AbsoluteBindingSettings
from fepflow.protocols.base import Protocol, ProtocolError, Report, RunContext, TaskResult

LEGS = ("complex", "solvent")


def binding_free_energy(dg_solvent: float, dg_complex: float, dg_restraint: float) -> float:
    """ΔG_bind = ΔG_solvent - ΔG_complex - ΔG_restraint (kcal/mol; signs in the module docstring)."""
    return dg_solvent - dg_complex - dg_restraint


def protein_atoms_angstrom(protein: ProteinComponent, *, alpha_carbons: bool = False) -> np.ndarray:
    """Coordinates (Å) of the protein's atoms in its PDB (only its Cα atoms with ``alpha_carbons``)."""
    rows = [
        [float(line[30:38]), float(line[38:46]), float(line[46:54])]
        for line in protein.pdb.splitlines()
        if line.startswith(("ATOM", "HETATM")) and (not alpha_carbons or line[12:16].strip() == "CA")
    ]
    return np.array(rows, dtype=float).reshape(-1, 3)


class AbsoluteBindingProtocol(Protocol):
    """Absolute binding free energy of one ligand to one protein."""

    name: ClassVar[str] = "absolute-binding"
    settings_model = AbsoluteBindingSettings
    presets: ClassVar[dict[str, dict[str, Any]]] = {"production": PRODUCTION, "fast": FAST, "smoke": SMOKE}
    settings: AbsoluteBindingSettings

    @staticmethod
    def ligand_of(transformation: Transformation) -> SmallMoleculeComponent:
        """The one small molecule present in state A (with the protein) and absent from state B."""
        a, b = transformation.state_a.small_molecules(), transformation.state_b.small_molecules()
        if len(a) != 1 or b:
            raise ProtocolError(
                f"transformation {transformation.label!r}: absolute binding needs state A = the protein with one "
                f"ligand and state B = the protein alone; found {len(a)} molecule(s) in state A and {len(b)} in B"
            )
        return next(iter(a.values()))

    def validate(self, transformation: Transformation) -> None:
        ligand = self.ligand_of(transformation)
        protein_a, protein_b = transformation.state_a.protein, transformation.state_b.protein
        if protein_a is None or protein_b is None or protein_a.key != protein_b.key:
            raise ProtocolError(
                f"transformation {transformation.label!r}: both states must hold the same protein"
            )
        if ligand.formal_charge != 0:
            raise ProtocolError(
                f"ligand {ligand.name!r} has net charge {ligand.formal_charge:+d}: absolute binding free energies "
                "of charged ligands need net-charge corrections (PME's neutralising background, Rocklin et al. "
                "2013) that fepflow does not apply yet; only neutral ligands are supported"
            )
        if self.settings.system.solvent_model != "tip3p":
            raise ProtocolError(
                "absolute binding runs in explicit TIP3P only (the complex has no implicit solvent)"
            )
        if ligand.conformer is None:
            raise ProtocolError(
                f"ligand {ligand.name!r} has no pose: absolute binding needs it posed in the protein's frame "
                "(a 3-D conformer, e.g. from an SDF)"
            )
        self.check_pose(ligand, protein_a)

    def check_pose(self, ligand: SmallMoleculeComponent, protein: ProteinComponent) -> None:
        """The pose touches the protein, and enough backbone Cα atoms lie within the restraint's reach."""
        restraint = self.settings.restraint
        heavy = [i for i, atom in enumerate(ligand.to_rdkit().GetAtoms()) if atom.GetAtomicNum() > 1]
        pose = np.asarray(ligand.conformer, dtype=float)[heavy]
        atoms = protein_atoms_angstrom(protein)
        nearest_nm = float(np.min(np.linalg.norm(atoms[:, None] - pose[None], axis=-1))) / 10.0
        if nearest_nm > restraint.max_pose_distance_nm:
            raise ProtocolError(
                f"ligand {ligand.name!r} lies {nearest_nm:.2f} nm from the nearest atom of {protein.name!r} "
                f"(more than {restraint.max_pose_distance_nm:g} nm): its pose is outside the pocket; is it posed "
                "in this structure's frame?"
            )
        alphas = protein_atoms_angstrom(protein, alpha_carbons=True)
        centre = pose.mean(axis=0)
        in_reach = int(np.sum(np.linalg.norm(alphas - centre, axis=1) / 10.0 <= restraint.reach_nm))
        if in_reach < 3:
            raise ProtocolError(
                f"only {in_reach} backbone Cα atom(s) of {protein.name!r} lie within {restraint.reach_nm:g} nm of "
                f"ligand {ligand.name!r}: no receptor atoms suitable for a Boresch restraint within reach"
            )

    def legs(self, transformation: Transformation) -> Sequence[str]:
        return LEGS

    def setup(self, run: RunContext) -> dict[str, Any]:
        from fepflow.protocols.absolute.binding_setup import run_setup

        return run_setup(run, self.ligand_of(run.transformation), self.settings)

    def simulate(self, run: RunContext, setup: dict[str, Any], leg: str, report: Report) -> Any:
        from fepflow.protocols.absolute.binding_simulate import simulate_leg

        return simulate_leg(run, leg, self.settings, report)

    def analyse(self, run: RunContext, setup: dict[str, Any], outcomes: dict[str, Any]) -> TaskResult:
        """MBAR on both legs; ΔG_bind = ΔG_solvent - ΔG_complex - ΔG_restraint (see the module)."""
        from fepflow.analysis.mbar import kT_kcal_per_mol
        from fepflow.protocols.common.analysis import analyse_legs, leg_warnings
        from fepflow.protocols.common.bundle import bundle_files

        ligand = self.ligand_of(run.transformation)
        temperature = self.settings.thermo.temperature_K
        analysed = analyse_legs(outcomes, run.bundle, temperature_K=temperature, title=ligand.name)
        complex_leg, solvent_leg = analysed.legs["complex"], analysed.legs["solvent"]
        correction = float(setup["restraint_correction_kcal_mol"])
        dg = binding_free_energy(solvent_leg.dg_kcal_mol, complex_leg.dg_kcal_mol, correction)
        summary = self.task_summary(
            run,
            quantity="ΔG_bind",
            dg_kcal_mol=dg,
            dg_mbar_error_kcal_mol=math.hypot(
                complex_leg.dg_mbar_error_kcal_mol, solvent_leg.dg_mbar_error_kcal_mol
            ),
            ligand=ligand.name,
            ligand_key=ligand.key,
            legs=analysed.legs,
            warnings=leg_warnings(analysed.legs),
            contributions={
                "complex_kcal_mol": complex_leg.dg_kcal_mol,
                "solvent_kcal_mol": solvent_leg.dg_kcal_mol,
                "restraint_correction_kcal_mol": correction,
                "formula": "ΔG_bind = ΔG_solvent - ΔG_complex - ΔG_restraint",
            },
            restraint=setup["restraint"],
            kT_kcal_mol=kT_kcal_per_mol(temperature),
            solvent_model=f"explicit {setup.get('solvent_leg', 'TIP3P')}",
            sampling_ns_per_state=self.settings.simulation.ns_per_state,
            setup=setup,
        )
        return TaskResult(summary=summary, files=bundle_files(run.workdir, analysed.files))
