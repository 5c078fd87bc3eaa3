"""The hydration protocol's settings, presets and input checks: clear errors before any simulation."""

from __future__ import annotations

import pytest
from factories import WATER, hydration_pair, ligand
from pydantic import ValidationError

from fepflow.models import ChemicalSystem, ModelError, SmallMoleculeComponent, Transformation
from fepflow.models.protocol_registry import protocol_class
from fepflow.models.results import LegSummary, TaskSummary, gather_values
from fepflow.protocols.absolute.hydration import AbsoluteHydrationProtocol
from fepflow.protocols.base import ProtocolError


def _edge(smiles: str, name: str, **settings: object) -> Transformation:
    mol = SmallMoleculeComponent.from_smiles(smiles, name)
    a = ChemicalSystem(name=f"{name} in water", components={"ligand": mol, "solvent": WATER})
    b = ChemicalSystem(name=f"{name} decoupled", components={"solvent": WATER})
    return Transformation(state_a=a, state_b=b, protocol="absolute-hydration", settings=settings)


def test_registry_finds_the_protocol() -> None:
    assert protocol_class("absolute-hydration") is AbsoluteHydrationProtocol
    with pytest.raises(ModelError, match="no runnable protocol"):
        protocol_class("nope")


def test_presets_differ_where_they_should() -> None:
    prod = AbsoluteHydrationProtocol.from_preset("production").settings
    fast = AbsoluteHydrationProtocol.from_preset("fast").settings
    assert prod.system.solvent_model == "tip3p" and fast.system.solvent_model == "obc2"
    assert prod.simulation.production_iterations > fast.simulation.production_iterations
    assert prod.simulation.timestep_fs == 4.0 and prod.simulation.hydrogen_mass_amu == 3.0
    tweaked = AbsoluteHydrationProtocol.preset_settings("fast", simulation={"production_iterations": 10})
    assert tweaked["simulation"]["production_iterations"] == 10
    assert tweaked["simulation"]["timestep_fs"] == 4.0  # the rest of the section is kept
    with pytest.raises(ProtocolError, match="no preset 'slow'"):
        AbsoluteHydrationProtocol.preset_settings("slow")


def test_a_neutral_molecule_validates() -> None:
    edge = _edge("CCO", "ethanol")
    protocol = AbsoluteHydrationProtocol.for_transformation(edge)
    protocol.validate(edge)
    assert protocol.ligand_of(edge).name == "ethanol"


def test_a_charged_molecule_is_refused_with_the_reason() -> None:
    edge = _edge("CC(=O)[O-]", "acetate")
    with pytest.raises(ProtocolError, match=r"'acetate' has net charge -1: .*only neutral"):
        AbsoluteHydrationProtocol.for_transformation(edge).validate(edge)


def test_wrong_shapes_of_transformation_are_refused() -> None:
    a, _ = hydration_pair("ethanol")
    c, _ = hydration_pair("methanol")
    swap = Transformation(state_a=a, state_b=c, protocol="absolute-hydration")
    with pytest.raises(ProtocolError, match="state B = the solvent alone"):
        AbsoluteHydrationProtocol.for_transformation(swap).validate(swap)
    two = ChemicalSystem(
        name="two", components={"a": ligand("ethanol"), "b": ligand("methanol"), "solvent": WATER}
    )
    empty = ChemicalSystem(name="water", components={"solvent": WATER})
    edge = Transformation(state_a=two, state_b=empty, protocol="absolute-hydration")
    with pytest.raises(ProtocolError, match="found 2 molecule"):
        AbsoluteHydrationProtocol.for_transformation(edge).validate(edge)


@pytest.mark.parametrize(
    ("lambdas", "message"),
    [
        ({"electrostatics": [], "sterics": []}, "at least two states"),
        ({"electrostatics": [1.0, 0.5], "sterics": [1.0, 0.5]}, "end fully decoupled"),
        ({"electrostatics": [0.5, 0.0], "sterics": [1.0, 0.0]}, "start fully coupled"),
        ({"electrostatics": [1.0, 0.0, 0.0], "sterics": [1.0, 0.0]}, "lengths differ"),
        ({"electrostatics": [1.0, 0.2, 0.5, 0.0], "sterics": [1.0, 1.0, 1.0, 0.0]}, "must not increase"),
    ],
)
def test_bad_lambda_schedules_are_refused(lambdas: dict[str, list[float]], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _edge("C", "methane", lambdas=lambdas)


def test_gather_combines_repeats() -> None:
    est = gather_values([(-5.0, 0.2), (-5.4, 0.2), (-5.2, 0.2)])
    assert est.dg_kcal_mol == pytest.approx(-5.2)
    assert est.stdev_kcal_mol == pytest.approx(0.2)
    assert est.mbar_error_kcal_mol == pytest.approx(0.2 * 3**0.5 / 3)
    assert est.n_repeats == 3
    stored = {"protocol": "absolute-hydration", "dg_hyd_kcal_mol": -1.0, "dg_hyd_error_kcal_mol": 0.3}
    single = AbsoluteHydrationProtocol.gather([TaskSummary.from_stored(stored)])
    assert single.stdev_kcal_mol == 0 and single.uncertainty_kcal_mol == pytest.approx(0.3)
    with pytest.raises(ValueError, match="no completed repeats"):
        gather_values([])


def test_leg_warnings_name_what_to_distrust() -> None:
    from fepflow.protocols.common.analysis import leg_warnings

    good = LegSummary(
        dg_kcal_mol=1.0,
        dg_mbar_error_kcal_mol=0.1,
        n_states=11,
        min_neighbour_overlap=0.12,
        forward_reverse_agree=True,
        equilibration_iterations=22,
        n_iterations=60,
    )
    assert leg_warnings({"solvent": good, "vacuum": good}) == []
    # measured: methanol, 20 ps of NPT equilibration
    relaxing = good.model_copy(update={"equilibration_iterations": 48})
    poor = good.model_copy(update={"min_neighbour_overlap": 0.028, "forward_reverse_agree": False})
    assert leg_warnings({"solvent": relaxing, "vacuum": poor}) == [
        "solvent leg: equilibration detection discarded 48 of 60 iterations; equilibrate longer "
        "(simulation.equilibration_ps) or extend the task",
        "vacuum leg: smallest neighbour overlap 0.028 < 0.03: result not good, add lambda windows where "
        "neighbouring states barely overlap",
        "vacuum leg: forward and reverse halves disagree",
    ]


def test_poor_replica_mixing_is_warned_with_its_threshold() -> None:
    from fepflow.protocols.common.analysis import MIN_NEIGHBOUR_ACCEPTANCE, MIN_ROUND_TRIPS, leg_warnings

    mixed = LegSummary(
        dg_kcal_mol=1.0,
        dg_mbar_error_kcal_mol=0.1,
        n_states=6,
        min_neighbour_overlap=0.2,
        equilibration_iterations=0,
        n_iterations=100,
        round_trips=12,
        min_neighbour_acceptance=0.4,
    )
    assert leg_warnings({"solvent": mixed}) == []
    stuck = mixed.model_copy(update={"round_trips": MIN_ROUND_TRIPS - 1, "min_neighbour_acceptance": 0.01})
    assert leg_warnings({"solvent": stuck}) == [
        f"solvent leg: poor replica mixing, 1 round trips < {MIN_ROUND_TRIPS} (coupled -> decoupled -> "
        "coupled, all replicas); sample longer or add windows",
        f"solvent leg: poor replica mixing, smallest neighbour exchange acceptance 0.010 < "
        f"{MIN_NEIGHBOUR_ACCEPTANCE}; add a window there",
    ]
    # independent sampling proposes no exchanges: nothing to say about mixing
    independent = stuck.model_copy(update={"min_neighbour_acceptance": None})
    assert leg_warnings({"solvent": independent}) == []
