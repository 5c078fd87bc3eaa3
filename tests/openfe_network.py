"""Networks in gufe's JSON, as openfe's planners write them, built from RDKit molecules.

The objects follow gufe's published serialisation (``GufeTokenizable.to_dict`` / ``to_keyed_chain``,
read from gufe's source and its test data ``alchemical_archive.json``): every object carries
``__qualname__``, ``__module__`` and ``:version:``; a ``SmallMoleculeComponent`` is RDKit's atoms
(8-tuples), bonds (5-tuples, RDKit enum numbers), a conformer as an .npy file in latin-1 text and
``molprops`` with ``ofe-name``; a ``ProteinComponent`` is 10-tuples of PDB atom data, bonds as
strings and conformers; a ``LigandAtomMapping`` maps atom indices as JSON object keys (strings);
settings are nested objects with ``__class__``/``__module__``/``:is_custom:`` and quantities
``{magnitude, unit, :is_custom:, pint_unit_registry}``, as in openfe's
``RelativeHybridTopologyProtocolSettings``. A keyed chain lists ``[key, object]`` pairs, each object
after those it names with ``{":gufe-key:": key}``.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
from rdkit import Chem
from rdkit.Chem import AllChem

import fepflow.data.t4l99a

PROTEIN_PDB = Path(fepflow.data.t4l99a.__file__).parent / "protein.pdb"


def _npy(array: Any) -> str:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array, dtype=float), allow_pickle=False)
    return buffer.getvalue().decode("latin-1")


def _obj(qualname: str, module: str, **fields: Any) -> dict[str, Any]:
    return {**fields, "__qualname__": qualname, "__module__": module, ":version:": 1}


def _q(magnitude: float, unit: str) -> dict[str, Any]:
    return {"magnitude": magnitude, "unit": unit, ":is_custom:": True, "pint_unit_registry": "openff_units"}


def _settings(cls: str, **fields: Any) -> dict[str, Any]:
    return {
        "__class__": cls,
        "__module__": "openfe.protocols.openmm_utils.omm_settings",
        ":is_custom:": True,
        **fields,
    }


def ligand(smiles: str, name: str, seed: int) -> tuple[dict[str, Any], Any]:
    """gufe's SmallMoleculeComponent of ``smiles`` (hydrogens explicit, one 3D conformer)."""
    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    AllChem.EmbedMolecule(mol, randomSeed=seed)
    atoms = [
        [
            a.GetAtomicNum(),
            a.GetIsotope(),
            a.GetFormalCharge(),
            a.GetIsAromatic(),
            int(a.GetChiralTag()),
            a.GetAtomMapNum(),
            {},
            int(a.GetHybridization()),
        ]
        for a in mol.GetAtoms()
    ]
    bonds = [
        [b.GetBeginAtomIdx(), b.GetEndAtomIdx(), int(b.GetBondType()), int(b.GetStereo()), {}]
        for b in mol.GetBonds()
    ]
    d = _obj(
        "SmallMoleculeComponent",
        "gufe.components.smallmoleculecomponent",
        atoms=atoms,
        bonds=bonds,
        conformer=[_npy(mol.GetConformer().GetPositions()), {}],
        molprops={"ofe-name": name},
    )
    return d, mol


def protein(residues: int = 3) -> dict[str, Any]:
    """gufe's ProteinComponent of the first ``residues`` residues of T4 lysozyme L99A."""
    lines = [line for line in PROTEIN_PDB.read_text().splitlines() if line.startswith("ATOM")]
    keep = [line for line in lines if int(line[22:26]) <= residues]
    mol = Chem.MolFromPDBBlock("\n".join(keep) + "\nEND\n", removeHs=False, sanitize=False)
    atoms = []
    for a in mol.GetAtoms():
        mi = a.GetPDBResidueInfo()
        atoms.append(
            [
                a.GetAtomicNum(),
                mi.GetChainId(),
                mi.GetSerialNumber(),
                mi.GetSegmentNumber(),
                mi.GetInsertionCode(),
                mi.GetName().strip(),
                mi.GetResidueName(),
                mi.GetResidueNumber(),
                "Y" if mi.GetIsHeteroAtom() else "N",
                a.GetFormalCharge(),
            ]
        )
    bonds = [[b.GetBeginAtomIdx(), b.GetEndAtomIdx(), str(b.GetBondType()), "N"] for b in mol.GetBonds()]
    conformers = [_npy(mol.GetConformer().GetPositions())]
    return _obj(
        "ProteinComponent",
        "gufe.components.proteincomponent",
        atoms=atoms,
        bonds=bonds,
        name="T4L",
        conformers=conformers,
    )


def solvent() -> dict[str, Any]:
    return _obj(
        "SolventComponent",
        "gufe.components.solventcomponent",
        smiles="O",
        positive_ion="Na+",
        negative_ion="Cl-",
        ion_concentration="0.15 molar",
        neutralize=True,
    )


def protocol_settings(**override: Any) -> dict[str, Any]:
    """openfe's default-like RelativeHybridTopologyProtocolSettings, as gufe writes them."""
    s = {
        "__class__": "RelativeHybridTopologyProtocolSettings",
        "__module__": "openfe.protocols.openmm_rfe.equil_rfe_settings",
        ":is_custom:": True,
        "protocol_repeats": 3,
        "forcefield_settings": _settings(
            "OpenMMSystemGeneratorFFSettings",
            constraints="hbonds",
            rigid_water=True,
            hydrogen_mass=3.0,
            forcefields=["amber/ff14SB.xml", "amber/tip3p_standard.xml"],
            small_molecule_forcefield="openff-2.2.1",
            nonbonded_method="PME",
            nonbonded_cutoff=_q(1.0, "nanometer"),
        ),
        "thermo_settings": _settings(
            "ThermoSettings",
            temperature=_q(298.15, "kelvin"),
            pressure=_q(1.0, "bar"),
            ph=None,
            redox_potential=None,
        ),
        "solvation_settings": _settings(
            "OpenMMSolvationSettings",
            solvent_model="tip3p",
            solvent_padding=_q(1.5, "nanometer"),
            box_shape="dodecahedron",
        ),
        "partial_charge_settings": _settings(
            "OpenFFPartialChargeSettings", partial_charge_method="am1bcc", off_toolkit_backend="ambertools"
        ),
        "lambda_settings": _settings("LambdaSettings", lambda_functions="default", lambda_windows=11),
        "alchemical_settings": _settings(
            "AlchemicalSettings", softcore_alpha=0.85, explicit_charge_correction=False
        ),
        "simulation_settings": _settings(
            "MultiStateSimulationSettings",
            equilibration_length=_q(1.0, "nanosecond"),
            production_length=_q(5.0, "nanosecond"),
            time_per_iteration=_q(2.5, "picosecond"),
            n_replicas=11,
            sampler_method="repex",
            early_termination_target_error=_q(0.0, "kilocalorie_per_mole"),
            minimization_steps=5000,
        ),
        "engine_settings": _settings("OpenMMEngineSettings", compute_platform="cuda"),
        "integrator_settings": _settings(
            "IntegratorSettings",
            timestep=_q(4.0, "femtosecond"),
            langevin_collision_rate=_q(1.0, "1 / picosecond"),
        ),
        "output_settings": _settings(
            "MultiStateOutputSettings",
            output_filename="simulation.nc",
            checkpoint_interval=_q(1.0, "nanosecond"),
        ),
    }
    s.update(override)
    return s


def network(
    pairs: list[tuple[str, str]],
    ligands: dict[str, tuple[str, int]],
    *,
    binding: bool,
    protocol: str = "RelativeHybridTopologyProtocol",
) -> tuple[dict[str, Any], dict[str, Any]]:
    """An AlchemicalNetwork (nested, as ``to_dict``) over ``pairs`` of ``ligands`` (name -> (SMILES,
    seed)), with complex and solvent legs (``binding``) or solvent and vacuum legs; and the RDKit
    molecules by name."""
    built = {n: ligand(s, n, seed) for n, (s, seed) in ligands.items()}
    water, prot = solvent(), protein() if binding else None
    proto = _obj(protocol, "openfe.protocols.openmm_rfe.equil_rfe_methods", settings=protocol_settings())

    def system(n: str, leg: str) -> dict[str, Any]:
        comps: dict[str, Any] = {"ligand": built[n][0]}
        if leg == "complex":
            comps["protein"] = prot
        if leg != "vacuum":
            comps["solvent"] = water
        return _obj("ChemicalSystem", "gufe.chemicalsystem", components=comps, name=f"{n}_{leg}")

    legs = ("complex", "solvent") if binding else ("solvent", "vacuum")
    edges, nodes = [], {}
    for a, b in pairs:
        core = Chem.MolFromSmarts("c1ccccc1")
        ia = built[a][1].GetSubstructMatch(core)
        ib = built[b][1].GetSubstructMatch(core)
        mapping = _obj(
            "LigandAtomMapping",
            "gufe.mapping.ligandatommapping",
            componentA=built[a][0],
            componentB=built[b][0],
            componentA_to_componentB={str(x): y for x, y in zip(ia, ib, strict=True)},
            annotations="{}",
        )
        for leg in legs:
            sa, sb = system(a, leg), system(b, leg)
            nodes[sa["name"]], nodes[sb["name"]] = sa, sb
            edges.append(
                _obj(
                    "Transformation",
                    "gufe.transformations.transformation",
                    stateA=sa,
                    stateB=sb,
                    protocol=proto,
                    mapping=mapping,
                    name=f"rbfe_{a}_{leg}_{b}_{leg}",
                )
            )
    net = _obj(
        "AlchemicalNetwork", "gufe.network", nodes=list(nodes.values()), edges=edges, name="openfe_benzenes"
    )
    return net, {n: m for n, (_, m) in built.items()}


def keyed_chain(obj: dict[str, Any]) -> list[list[Any]]:
    """``obj`` as gufe's keyed chain: each object once, after those it names."""
    chain: list[list[Any]] = []
    keys: dict[int, str] = {}

    def visit(value: Any) -> Any:
        if isinstance(value, dict) and "__qualname__" in value:
            if id(value) not in keys:
                shallow = {k: visit(v) for k, v in value.items()}
                digest = hashlib.md5(json.dumps(shallow, sort_keys=True).encode()).hexdigest()
                keys[id(value)] = f"{value['__qualname__']}-{digest}"
                chain.append([keys[id(value)], shallow])
            return {":gufe-key:": keys[id(value)]}
        if isinstance(value, dict):
            return {k: visit(v) for k, v in value.items()}
        if isinstance(value, list):
            return [visit(v) for v in value]
        return value

    visit(obj)
    return chain
