"""Small builders of valid models for tests."""

from __future__ import annotations

from fepflow.models import (
    AlchemicalNetwork,
    ChemicalSystem,
    ProteinComponent,
    SmallMoleculeComponent,
    SolventComponent,
    Transformation,
)

WATER = SolventComponent()
LIGANDS = {"methane": "C", "methanol": "CO", "ethanol": "CCO", "benzene": "c1ccccc1", "toluene": "Cc1ccccc1"}

TINY_PDB = """\
ATOM      1  N   ALA A   1       1.458   0.000   0.000  1.00  0.00           N
ATOM      2  CA  ALA A   1       2.009   1.420   0.000  1.00  0.00           C
ATOM      3  C   ALA A   1       3.535   1.420   0.000  1.00  0.00           C
ATOM      4  O   ALA A   1       4.159   0.356   0.000  1.00  0.00           O
ATOM      5  CB  ALA A   1       1.505   2.193   1.222  1.00  0.00           C
TER
END
"""


def ligand(name: str) -> SmallMoleculeComponent:
    return SmallMoleculeComponent.from_smiles(LIGANDS[name], name)


def hydration_pair(name: str, solvent: SolventComponent = WATER) -> tuple[ChemicalSystem, ChemicalSystem]:
    """(ligand in water, ligand decoupled) for one ligand."""
    solvated = ChemicalSystem(
        name=f"{name} in water", components={"ligand": ligand(name), "solvent": solvent}
    )
    decoupled = ChemicalSystem(name=f"{name} decoupled", components={"solvent": solvent})
    return solvated, decoupled


def hydration_network(names: list[str], name: str = "hydration", **settings: object) -> AlchemicalNetwork:
    nodes, edges = [], []
    for lig in names:
        a, b = hydration_pair(lig)
        nodes += [a, b]
        edges.append(Transformation(state_a=a, state_b=b, protocol="absolute-hydration", settings=settings))
    return AlchemicalNetwork(name=name, nodes=nodes, edges=edges)


def protein_systems(n: int) -> list[ChemicalSystem]:
    """``n`` systems that all share one protein (one ligand each)."""
    protein = ProteinComponent.from_pdb(TINY_PDB, name="tiny")
    smiles = ["C", "CC", "CCC", "CCCC", "CCCCC", "OC", "OCC", "OCCC", "NC", "NCC", "ClC", "FC"]
    return [
        ChemicalSystem(
            name=f"complex {i}",
            components={
                "protein": protein,
                "ligand": SmallMoleculeComponent.from_smiles(
                    smiles[i % len(smiles)] + "C" * (i // len(smiles)), f"lig{i}"
                ),
                "solvent": WATER,
            },
        )
        for i in range(n)
    ]


def harmonic_network(n: int, name: str = "oscillators", **settings: object) -> AlchemicalNetwork:
    """``n`` harmonic-reference transformations (exact answers), each with its own final force constant."""
    nodes, edges = [], []
    for i in range(n):
        a = ChemicalSystem(name=f"oscillators {i} at K0", components={"solvent": WATER})
        b = ChemicalSystem(name=f"oscillators {i} at K1", components={"solvent": WATER})
        k_end = 1000.0 * (1.5 + 0.25 * i)
        edge_settings = {"force_constants_kT_per_nm2": [1000.0, (1000.0 + k_end) / 2, k_end], **settings}
        nodes += [a, b]
        edges.append(
            Transformation(
                state_a=a,
                state_b=b,
                protocol="harmonic-reference",
                settings=edge_settings,
                name=f"oscillators {i}",
            )
        )
    return AlchemicalNetwork(name=name, nodes=nodes, edges=edges)
