"""Networks built from a list of ligands: what the hub's "planner body" and ``fepflow submit`` use.

Absolute protocols (hydration) give one transformation per ligand: solvated -> decoupled. Errors
name the molecule (by its position and name) so a caller can point at the line that failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fepflow.models.base import ModelError
from fepflow.models.components import SmallMoleculeComponent, SolventComponent
from fepflow.models.network import AlchemicalNetwork
from fepflow.models.systems import ChemicalSystem
from fepflow.models.transformations import Transformation
from fepflow.protocols.registry import protocol_class

ABSOLUTE_PROTOCOLS = ("absolute-hydration",)


class MoleculeError(ModelError):
    """A molecule that cannot be used; ``index`` is its position in the input, ``name`` its name."""

    def __init__(self, index: int, name: str | None, message: str) -> None:
        super().__init__(message)
        self.index = index
        self.name = name


@dataclass(frozen=True)
class LigandInput:
    smiles: str
    name: str | None = None


def ligands_from_smiles(items: list[LigandInput]) -> list[SmallMoleculeComponent]:
    out = []
    for i, item in enumerate(items):
        try:
            out.append(SmallMoleculeComponent.from_smiles(item.smiles, item.name))
        except ModelError as exc:
            raise MoleculeError(i, item.name or item.smiles, str(exc)) from None
    return _unique_names(out)


def ligands_from_sdf(text: str) -> list[SmallMoleculeComponent]:
    records = [r for r in text.split("$$$$") if r.strip()]
    if not records:
        raise MoleculeError(0, None, "SDF text holds no molecules")
    out = []
    for i, record in enumerate(records):
        body = record.lstrip("\r\n")
        title = body.splitlines()[0].strip() if body else ""
        try:
            out.append(SmallMoleculeComponent.from_mol_block(body, name=title or f"molecule {i + 1}"))
        except ModelError as exc:
            raise MoleculeError(i, title or f"molecule {i + 1}", str(exc)) from None
    return _unique_names(out)


def _unique_names(ligands: list[SmallMoleculeComponent]) -> list[SmallMoleculeComponent]:
    seen: dict[str, int] = {}
    for i, ligand in enumerate(ligands):
        if ligand.name in seen:
            raise MoleculeError(
                i,
                ligand.name,
                f"molecule {ligand.name!r} appears twice (positions {seen[ligand.name]} and {i})",
            )
        seen[ligand.name] = i
    return ligands


def protocol_settings(
    protocol: str, preset: str | None, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The full settings of ``preset`` (or the protocol's defaults) with ``overrides`` merged in."""
    cls = protocol_class(protocol)
    if preset is None:
        return dict(cls(overrides or {}).settings.model_dump(mode="json"))
    return dict(cls.preset_settings(preset, **(overrides or {})))


def absolute_network(
    ligands: list[SmallMoleculeComponent],
    *,
    name: str,
    protocol: str = "absolute-hydration",
    settings: dict[str, Any] | None = None,
) -> AlchemicalNetwork:
    """One transformation per ligand: the ligand in water -> the ligand decoupled (water alone)."""
    if protocol not in ABSOLUTE_PROTOCOLS:
        raise ModelError(
            f"the planner builds networks for {', '.join(ABSOLUTE_PROTOCOLS)}; "
            f"for {protocol!r} submit a network document"
        )
    if not ligands:
        raise ModelError("no ligands given")
    water = SolventComponent()
    nodes: list[ChemicalSystem] = []
    edges = []
    for ligand in ligands:
        solvated = ChemicalSystem(
            name=f"{ligand.name} in water", components={"ligand": ligand, "solvent": water}
        )
        decoupled = ChemicalSystem(name=f"{ligand.name} decoupled", components={"solvent": water})
        nodes += [solvated, decoupled]
        edges.append(
            Transformation(
                state_a=solvated,
                state_b=decoupled,
                protocol=protocol,
                settings=settings or {},
                name=f"hydration of {ligand.name}",
            )
        )
    return AlchemicalNetwork(name=name, nodes=nodes, edges=edges)
