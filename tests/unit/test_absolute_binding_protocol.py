"""The absolute binding protocol before anything runs: registry, presets, schedules, the sign of
ΔG_bind, and bad input refused with its reason (charged ligand, pose outside the pocket, no receptor
atoms within reach of a restraint)."""

from __future__ import annotations

import numpy as np
import pytest

from fepflow.data import t4l99a
from fepflow.models import SmallMoleculeComponent
from fepflow.models.components import ProteinComponent, SolventComponent
from fepflow.models.protocol_registry import protocol_class
from fepflow.models.systems import ChemicalSystem
from fepflow.models.transformations import Transformation
from fepflow.protocols.absolute.binding import AbsoluteBindingProtocol, binding_free_energy
from fepflow.protocols.absolute.binding_settings import AbsoluteBindingSettings, ComplexLambdaSchedule
from fepflow.protocols.base import ProtocolError


def _transformation(
    ligand: SmallMoleculeComponent, protein: ProteinComponent | None = None
) -> Transformation:
    protein = protein or t4l99a.protein()
    water = SolventComponent()
    bound = ChemicalSystem(
        name="complex", components={"protein": protein, "ligand": ligand, "solvent": water}
    )
    apo = ChemicalSystem(name="apo", components={"protein": protein, "solvent": water})
    return Transformation(
        state_a=bound,
        state_b=apo,
        protocol="absolute-binding",
        settings=AbsoluteBindingProtocol.preset_settings("smoke"),
        name=f"binding of {ligand.name}",
    )


def _toluene() -> SmallMoleculeComponent:
    return next(lig for lig in t4l99a.ligands() if lig.name == "toluene")


def test_registered_with_presets() -> None:
    assert protocol_class("absolute-binding") is AbsoluteBindingProtocol
    for preset in ("production", "fast", "smoke"):
        settings = AbsoluteBindingSettings.model_validate(AbsoluteBindingProtocol.preset_settings(preset))
        assert settings.system.solvent_model == "tip3p"
        schedule = settings.complex_lambdas
        assert schedule.restraints[0] == 0.0 and schedule.restraints[-1] == 1.0
    production = AbsoluteBindingSettings.model_validate(AbsoluteBindingProtocol.preset_settings("production"))
    assert production.simulation.ns_per_state == pytest.approx(5.0)


def test_sign_convention_of_the_cycle() -> None:
    # decoupling costs more in the pocket than in water, and releasing the restraint gives back entropy
    assert binding_free_energy(dg_solvent=1.0, dg_complex=14.0, dg_restraint=-7.0) == pytest.approx(-6.0)


def test_schedule_switches_the_restraint_on_before_decoupling() -> None:
    with pytest.raises(ValueError, match="restraint is not fully on"):
        ComplexLambdaSchedule(
            restraints=(0.0, 0.5, 1.0), electrostatics=(1.0, 0.0, 0.0), sterics=(1.0, 1.0, 0.0)
        )
    with pytest.raises(ValueError, match="from 0"):
        ComplexLambdaSchedule(
            restraints=(1.0, 1.0, 1.0), electrostatics=(1.0, 0.0, 0.0), sterics=(1.0, 1.0, 0.0)
        )


def test_posed_neutral_ligand_in_the_pocket_is_accepted() -> None:
    AbsoluteBindingProtocol.for_transformation(_transformation(_toluene())).validate(
        _transformation(_toluene())
    )


def test_charged_ligand_is_refused_with_the_reason() -> None:
    benzoate = SmallMoleculeComponent.from_smiles("[O-]C(=O)c1ccccc1", "benzoate")
    with pytest.raises(ProtocolError, match=r"net charge -1.*net-charge corrections"):
        AbsoluteBindingProtocol().validate(_transformation(benzoate))


def test_pose_outside_the_pocket_is_refused() -> None:
    toluene = _toluene()
    assert toluene.conformer is not None
    far = toluene.model_copy(
        update={"conformer": tuple(tuple(c) for c in np.asarray(toluene.conformer) + 40.0)}
    )
    with pytest.raises(ProtocolError, match="outside the pocket"):
        AbsoluteBindingProtocol().validate(_transformation(far))


def test_no_receptor_atoms_within_reach_is_refused() -> None:
    """A pose touching a two-residue fragment: close to protein atoms, but too few Cα for three anchors."""
    lines = t4l99a.protein_pdb().splitlines()
    first_two = [line for line in lines if line.startswith("ATOM") and int(line[22:26]) in (1, 2)]
    fragment = ProteinComponent.from_pdb("\n".join([*first_two, "END"]) + "\n", "fragment")
    ca = np.array(
        [
            [float(x) for x in (ln[30:38], ln[38:46], ln[46:54])]
            for ln in first_two
            if ln[12:16].strip() == "CA"
        ]
    )
    toluene = _toluene()
    pose = np.asarray(toluene.conformer)
    moved = pose - pose.mean(axis=0) + ca[0] + np.array([0.0, 0.0, 4.5])
    posed = toluene.model_copy(update={"conformer": tuple(tuple(c) for c in moved)})
    with pytest.raises(ProtocolError, match="no receptor atoms suitable"):
        AbsoluteBindingProtocol().validate(_transformation(posed, fragment))


def test_unposed_ligand_is_refused() -> None:
    with pytest.raises(ProtocolError, match="no pose"):
        AbsoluteBindingProtocol().validate(
            _transformation(SmallMoleculeComponent.from_smiles("c1ccccc1", "benzene"))
        )
