"""An ``AlchemicalNetwork`` planned by openfe (gufe's JSON) as a fepflow network, and a report of
what was carried over and what was not.

openfe's relative networks (``RelativeHybridTopologyProtocol``) become fepflow's: a transformation
whose states hold a protein is a ``relative-binding`` complex leg, one in solvent a solvent leg (of
``relative-binding`` when the network has complex legs, else a ``relative-hydration`` edge, whose
vacuum leg fepflow runs itself: openfe's vacuum transformations are then left out). The ligands keep
their names, poses and openfe's atom mappings (renumbered to fepflow's canonical atom order); the
protein and solvent are carried over. Settings with a fepflow equivalent are converted (units
included); every other one is listed in :attr:`ImportReport.not_carried` with the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fepflow.interop import gufe_json
from fepflow.interop.gufe_json import GufeFormatError, qualname
from fepflow.interop.openfe_settings import SettingsReport, convert_settings
from fepflow.models.components import ProteinComponent, SmallMoleculeComponent
from fepflow.models.network import AlchemicalNetwork
from fepflow.models.systems import ChemicalSystem
from fepflow.models.transformations import AtomMapping, Transformation

RELATIVE = "RelativeHybridTopologyProtocol"
LIGAND = "ligand"


@dataclass
class ImportReport:
    """What an import did: transformations made and left out, settings carried over and not."""

    source_protocols: list[str] = field(default_factory=list)
    transformations: int = 0
    left_out: list[str] = field(default_factory=list)
    carried: dict[str, str] = field(default_factory=dict)
    not_carried: dict[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"{self.transformations} transformations imported from {', '.join(self.source_protocols)}"]
        out += [f"left out: {why}" for why in self.left_out]
        out += [f"carried over: {path} -> {how}" for path, how in sorted(self.carried.items())]
        out += [f"NOT carried over: {path}: {why}" for path, why in sorted(self.not_carried.items())]
        return out


@dataclass
class _Converter:
    ligands: dict[int, tuple[SmallMoleculeComponent, dict[int, int]]] = field(default_factory=dict)
    proteins: dict[int, ProteinComponent] = field(default_factory=dict)

    def ligand(self, d: dict[str, Any]) -> tuple[SmallMoleculeComponent, dict[int, int]]:
        if id(d) not in self.ligands:
            self.ligands[id(d)] = gufe_json.small_molecule(d)
        return self.ligands[id(d)]

    def protein(self, d: dict[str, Any]) -> ProteinComponent:
        if id(d) not in self.proteins:
            self.proteins[id(d)] = gufe_json.protein(d)
        return self.proteins[id(d)]


def _roles(system: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A gufe ChemicalSystem's components by kind: ligand, protein, solvent."""
    kinds = {"SmallMoleculeComponent": LIGAND, "ProteinComponent": "protein", "SolventComponent": "solvent"}
    out: dict[str, dict[str, Any]] = {}
    for label, component in (system.get("components") or {}).items():
        kind = kinds.get(qualname(component))
        if kind is None:
            raise GufeFormatError(
                f"system {system.get('name')!r}: component {label!r} is a {qualname(component)}"
            )
        if kind in out:
            raise GufeFormatError(f"system {system.get('name')!r} holds two {kind} components")
        out[kind] = component
    return out


def _system(conv: _Converter, d: dict[str, Any], water: str) -> tuple[ChemicalSystem, dict[int, int]]:
    roles = _roles(d)
    if LIGAND not in roles:
        raise GufeFormatError(f"system {d.get('name')!r} holds no small molecule")
    ligand, order = conv.ligand(roles[LIGAND])
    components: dict[str, Any] = {LIGAND: ligand}
    if "protein" in roles:
        components["protein"] = conv.protein(roles["protein"])
    components["solvent"] = gufe_json.solvent(roles["solvent"], water)
    name = f"{ligand.name} complex" if "protein" in roles else ligand.name
    return ChemicalSystem(name=name, components=components), order


def _mapping(d: Any, order_a: dict[int, int], order_b: dict[int, int]) -> AtomMapping:
    if qualname(d) != "LigandAtomMapping":
        raise GufeFormatError(
            f"a relative transformation needs a LigandAtomMapping, not {qualname(d) or d!r}"
        )
    pairs = tuple((order_a[int(a)], order_b[int(b)]) for a, b in d["componentA_to_componentB"].items())
    return AtomMapping(component_a=LIGAND, component_b=LIGAND, pairs=pairs)


def _leg(t: dict[str, Any]) -> str:
    states = [_roles(t["stateA"]), _roles(t["stateB"])]
    if any("protein" in s for s in states):
        return "complex"
    return "solvent" if all("solvent" in s for s in states) else "vacuum"


def import_network(text: str, *, name: str | None = None) -> tuple[AlchemicalNetwork, ImportReport]:
    """fepflow's network from gufe's JSON of an AlchemicalNetwork (or of one Transformation)."""
    root = gufe_json.load(text)
    edges = [root] if qualname(root) == "Transformation" else root.get("edges")
    if qualname(root) not in ("AlchemicalNetwork", "Transformation") or not edges:
        raise GufeFormatError(f"expected an AlchemicalNetwork with transformations, not a {qualname(root)}")
    report = ImportReport(source_protocols=sorted({qualname(t["protocol"]) for t in edges}))
    unknown = [p for p in report.source_protocols if p != RELATIVE]
    if unknown:
        raise GufeFormatError(f"protocol {unknown[0]} has no fepflow counterpart (fepflow reads {RELATIVE})")
    legs = [_leg(t) for t in edges]
    binding = "complex" in legs
    conv, made, converted = _Converter(), [], {}
    for t, leg in zip(edges, legs, strict=True):
        if leg == "vacuum":
            report.left_out.append("a vacuum leg: fepflow's relative-hydration runs its own")
            continue
        text = json.dumps(t["protocol"].get("settings") or {}, sort_keys=True)
        if text not in converted:
            converted[text] = convert_settings(json.loads(text))
            report.carried.update(converted[text].carried)
            report.not_carried.update(converted[text].not_carried)
        made.append(_transformation(conv, t, leg, binding, converted[text]))
    report.transformations = len(made)
    nodes = {s.key: s for t in made for s in (t.state_a, t.state_b)}
    network = AlchemicalNetwork(
        name=name or str(root.get("name") or "openfe network"), nodes=tuple(nodes.values()), edges=tuple(made)
    )
    return network, report


def _transformation(
    conv: _Converter, t: dict[str, Any], leg: str, binding: bool, settings: SettingsReport
) -> Transformation:
    state_a, order_a = _system(conv, t["stateA"], settings.water_model)
    state_b, order_b = _system(conv, t["stateB"], settings.water_model)
    a, b = state_a.components[LIGAND].name, state_b.components[LIGAND].name
    suffix = f" ({leg})" if binding else ""
    return Transformation(
        name=f"{a} -> {b}{suffix}",
        state_a=state_a,
        state_b=state_b,
        protocol="relative-binding" if binding else "relative-hydration",
        settings=settings.settings,
        mapping=_mapping(t.get("mapping"), order_a, order_b),
    )
