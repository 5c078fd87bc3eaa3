"""The FreeSolv development set shipped with fepflow: reference values and published GAFF parameters."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class FreeSolvEntry:
    """One molecule of the development set; energies in kcal/mol (negative: favourable in water)."""

    mobley_id: str
    smiles: str
    name: str
    expt_kcal_mol: float
    expt_err_kcal_mol: float
    calc_gaff_kcal_mol: float
    calc_err_kcal_mol: float
    heavy_atoms: int


def entries() -> list[FreeSolvEntry]:
    """The 40 molecules, in the file's order."""
    text = resources.files("fepflow.data").joinpath("freesolv_dev.tsv").read_text()
    rows = csv.DictReader(text.splitlines(), delimiter="\t")
    return [
        FreeSolvEntry(
            mobley_id=r["id"],
            smiles=r["smiles"],
            name=r["name"],
            expt_kcal_mol=float(r["expt_kcal_mol"]),
            expt_err_kcal_mol=float(r["expt_err_kcal_mol"]),
            calc_gaff_kcal_mol=float(r["calc_gaff_kcal_mol"]),
            calc_err_kcal_mol=float(r["calc_err_kcal_mol"]),
            heavy_atoms=int(r["heavy_atoms"]),
        )
        for r in rows
    ]


def entry(name_or_id: str) -> FreeSolvEntry:
    """One molecule by its name (``methanol``) or FreeSolv id (``mobley_1636752``)."""
    for e in entries():
        if name_or_id in (e.name, e.mobley_id):
            return e
    raise KeyError(f"{name_or_id!r} is not in the FreeSolv development set")


def amber_files(mobley_id: str) -> tuple[Path, Path, Path]:
    """(prmtop, inpcrd, frcmod) of the published GAFF 1.x / AM1-BCC parameters."""
    folder = Path(str(resources.files("fepflow.data").joinpath("freesolv_amber")))
    paths = tuple(folder / f"{mobley_id}.{ext}" for ext in ("prmtop", "inpcrd", "frcmod"))
    missing = [p.name for p in paths if not p.exists()]
    if missing:
        raise FileNotFoundError(f"published parameters missing for {mobley_id}: {', '.join(missing)}")
    return paths  # type: ignore[return-value]


def published_parameters(name_or_id: str) -> Any:
    """The published parameters as :class:`fepflow.chemistry.LigandParameters`, in the component's atom order."""
    from fepflow.chemistry import ligand_from_amber_files
    from fepflow.models.components import SmallMoleculeComponent

    e = entry(name_or_id)
    prmtop, inpcrd, frcmod = amber_files(e.mobley_id)
    molecule = SmallMoleculeComponent.from_smiles(e.smiles, e.name)
    return ligand_from_amber_files(prmtop, inpcrd, frcmod, name=e.name, forcefield="gaff", molecule=molecule)
