"""Hydration runs in pure water (FreeSolv's and experiment's conditions); binding in 0.15 M NaCl."""

from __future__ import annotations

import pytest

from fepflow.models import ProteinComponent, SmallMoleculeComponent, SolventComponent
from fepflow.planning import plan_network
from fepflow.planning.absolute import absolute_network

PDB = "ATOM      1  CA  ALA A   1       0.000   0.000   0.000  1.00  0.00           C\n"


def _salt(network: object) -> set[float]:
    return {
        c.ion_concentration_molar
        for system in network.nodes  # type: ignore[attr-defined]
        for c in system.components.values()
        if isinstance(c, SolventComponent)
    }


def _ligands() -> list[SmallMoleculeComponent]:
    return [
        SmallMoleculeComponent.from_smiles(s, n)
        for n, s in (("benzene", "c1ccccc1"), ("toluene", "Cc1ccccc1"))
    ]


def test_hydration_plans_pure_water_unless_ions_are_asked_for() -> None:
    assert _salt(absolute_network(_ligands(), name="hyd")) == {0.0}
    salted = SolventComponent(ion_concentration_molar=0.1)
    assert _salt(absolute_network(_ligands(), name="hyd", solvent=salted)) == {0.1}
    assert _salt(plan_network(_ligands(), edges=[("benzene", "toluene")])) == {0.0}
    assert SolventComponent.pure_water().neutralize  # a charged solute still gets its counter-ions


def test_binding_keeps_the_physiological_salt() -> None:
    network = plan_network(
        _ligands(), edges=[("benzene", "toluene")], protein=ProteinComponent.from_pdb(PDB, "toy")
    )
    assert _salt(network) == {0.15}


def test_the_production_schedule_is_no_sparser_than_openfes_default() -> None:
    from fepflow.protocols.absolute.hydration import AbsoluteHydrationProtocol

    # openfe's AbsoluteSolvationProtocol default (LambdaSettings, written there as 1 - λ): 14 windows
    openfe_elec = [0.0, 0.25, 0.5, 0.75, *[1.0] * 10]
    openfe_vdw = [0.0] * 5 + [0.12, 0.24, 0.36, 0.48, 0.6, 0.7, 0.77, 0.85, 1.0]
    lambdas = AbsoluteHydrationProtocol.preset_settings("production")["lambdas"]
    assert len(lambdas["electrostatics"]) >= len(openfe_elec)
    steric_steps = sum(a != b for a, b in zip(lambdas["sterics"], lambdas["sterics"][1:], strict=False))
    assert steric_steps >= 9  # the old default had 6
    assert lambdas["sterics"] == pytest.approx([1.0 - x for x in openfe_vdw])
    assert lambdas["electrostatics"] == pytest.approx([1.0 - x for x in openfe_elec])
