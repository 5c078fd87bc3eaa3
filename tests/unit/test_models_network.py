"""Systems, transformations and networks: keys, validation, and the shared-child JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from factories import WATER, hydration_network, hydration_pair, ligand, protein_systems
from pydantic import ValidationError

from fepflow.models import (
    AlchemicalNetwork,
    AtomMapping,
    ChemicalSystem,
    ModelError,
    Transformation,
    from_json,
    to_dict,
    to_json,
)
from fepflow.protocols.absolute.settings import AbsoluteHydrationSettings

KEY_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from factories import hydration_network
print(hydration_network(["ethanol", "methanol", "benzene"]).key)
"""


def test_network_key_is_the_same_in_other_processes() -> None:
    here = hydration_network(["ethanol", "methanol", "benzene"]).key
    tests_dir = os.path.dirname(os.path.dirname(__file__))
    keys = set()
    for seed in ("0", "1", "12345"):
        out = subprocess.run(
            [sys.executable, "-c", KEY_SCRIPT.format(tests=tests_dir)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        keys.add(out.stdout.strip().splitlines()[-1])
    assert keys == {here}


def test_defaults_left_out_or_written_out_give_one_key() -> None:
    a, b = hydration_pair("ethanol")
    implicit = Transformation(state_a=a, state_b=b, protocol="absolute-hydration")
    explicit = Transformation(
        state_a=a, state_b=b, protocol="absolute-hydration", settings=AbsoluteHydrationSettings().model_dump()
    )
    partial = Transformation(
        state_a=a, state_b=b, protocol="absolute-hydration", settings={"thermo": {"temperature_K": 298.15}}
    )
    assert implicit.key == explicit.key == partial.key
    assert (
        Transformation(
            state_a=a, state_b=b, protocol="absolute-hydration", settings={"thermo": {"temperature_K": 300}}
        ).key
        != implicit.key
    )


def test_order_of_nodes_and_edges_does_not_change_the_key() -> None:
    net = hydration_network(["ethanol", "methanol"])
    shuffled = AlchemicalNetwork(
        name=net.name, nodes=tuple(reversed(net.nodes)), edges=tuple(reversed(net.edges))
    )
    assert shuffled.key == net.key


def test_a_child_change_changes_every_parent_key() -> None:
    a = hydration_network(["ethanol"])
    b = hydration_network(["ethanol"], thermo={"temperature_K": 310.0})
    assert a.nodes == b.nodes and a.edges[0].key != b.edges[0].key and a.key != b.key


def test_round_trip_is_exact_and_shared_children_are_stored_once() -> None:
    systems = protein_systems(50)
    edges = [
        Transformation(state_a=systems[i], state_b=systems[i + 1], protocol="absolute-hydration")
        for i in range(49)
    ]
    net = AlchemicalNetwork(name="shared protein", nodes=systems, edges=edges)
    doc = to_dict(net)
    types = [o["type"] for o in doc["objects"].values()]
    assert types.count("ProteinComponent") == 1
    assert types.count("SolventComponent") == 1
    text = to_json(net)
    assert text.count('"ATOM      1') == 1  # the PDB text itself appears once
    back = from_json(text)
    assert back == net and back.key == net.key
    assert to_json(back) == text
    proteins = {id(n.components["protein"]) for n in back.nodes}
    assert len(proteins) == 1  # one Python object shared by all 50 systems


def test_tampered_document_is_refused() -> None:
    net = hydration_network(["ethanol"])
    doc = json.loads(to_json(net))
    lig_key = next(k for k, v in doc["objects"].items() if v["type"] == "SmallMoleculeComponent")
    doc["objects"][lig_key]["data"]["name"] = "not ethanol"
    with pytest.raises(ModelError, match="content whose key is"):
        from_json(json.dumps(doc))
    del doc["objects"][lig_key]
    with pytest.raises(ModelError, match="not included"):
        from_json(json.dumps(doc))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "malformed JSON at line 1"),
        ('{"format": "fepflow/1", "format": "x"}', "appears twice"),
        ('{"root": "x"}', "not a fepflow document"),
        (
            '{"format": "fepflow/1", "root": "Nope-1", "objects": {"Nope-1": {"type": "Nope", "data": {}}}}',
            "unknown object type 'Nope'",
        ),
        ("[1, NaN]", "NaN"),
    ],
)
def test_malformed_json_gets_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        from_json(text)


def test_network_validation_names_the_problem() -> None:
    a, b = hydration_pair("ethanol")
    c, d = hydration_pair("methanol")
    t1 = Transformation(state_a=a, state_b=b, protocol="absolute-hydration")
    with pytest.raises(ValidationError, match="state B 'ethanol decoupled', which is not a node"):
        AlchemicalNetwork(name="n", nodes=[a, c, d], edges=[t1])
    with pytest.raises(ValidationError, match="is empty"):
        AlchemicalNetwork(name="n", nodes=[], edges=[])
    with pytest.raises(ValidationError, match="no transformations"):
        AlchemicalNetwork(name="n", nodes=[a, b], edges=[])
    twin = ChemicalSystem(
        name="ethanol in water", components={"ligand": ligand("methanol"), "solvent": WATER}
    )
    with pytest.raises(ValidationError, match="repeated: ethanol in water"):
        AlchemicalNetwork(name="n", nodes=[a, b, twin], edges=[t1])
    with pytest.raises(ValidationError, match="listed twice"):
        AlchemicalNetwork(name="n", nodes=[a, b], edges=[t1, t1])


def test_transformation_validation() -> None:
    a, b = hydration_pair("ethanol")
    with pytest.raises(ValidationError, match="unknown protocol 'magic'"):
        Transformation(state_a=a, state_b=b, protocol="magic")
    with pytest.raises(ValidationError, match="same system"):
        Transformation(state_a=a, state_b=a, protocol="absolute-hydration")
    with pytest.raises(ValidationError, match="start fully coupled"):
        Transformation(
            state_a=a,
            state_b=b,
            protocol="absolute-hydration",
            settings={"lambdas": {"electrostatics": [0.5, 0.0], "sterics": [1.0, 0.0]}},
        )
    with pytest.raises(ValidationError, match="timestep_fs"):
        Transformation(
            state_a=a, state_b=b, protocol="absolute-hydration", settings={"simulation": {"timestep_fs": -1}}
        )
    with pytest.raises(ValidationError, match="one-to-one"):
        AtomMapping(component_a="ligand", component_b="ligand", pairs=((0, 1), (0, 2)))
    with pytest.raises(ValidationError, match="does not have"):
        Transformation(
            state_a=a,
            state_b=b,
            protocol="absolute-hydration",
            mapping=AtomMapping(component_a="ligand", component_b="ligand", pairs=((0, 0),)),
        )


def test_systems_need_components() -> None:
    with pytest.raises(ValidationError, match="at least one component"):
        ChemicalSystem(name="void", components={})
