"""Reading ligands from the files people have: each reader turns a file's text into molecules."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from fepflow.models.base import ModelError
from fepflow.models.components import SmallMoleculeComponent
from fepflow.planning.errors import PlanningError


def read_ligands_csv(text: str) -> list[tuple[str, str]]:
    """``(name, SMILES)`` rows of a CSV: a header naming 'smiles' (and 'name'), or first column SMILES
    (second column the name). Unnamed rows are called ``mol<row>``; a CSV without rows is a ValueError."""
    rows = [r for r in csv.reader(io.StringIO(text)) if r and any(c.strip() for c in r)]
    if not rows:
        raise ValueError("the CSV holds no rows")
    header = [c.strip().lower() for c in rows[0]]
    if "smiles" in header:
        s, n = header.index("smiles"), header.index("name") if "name" in header else None
        body = rows[1:]
    else:
        s, n, body = 0, 1 if len(rows[0]) > 1 else None, rows
    out = []
    for i, row in enumerate(body):
        smiles = row[s].strip()
        name = row[n].strip() if n is not None and n < len(row) and row[n].strip() else f"mol{i + 1}"
        out.append((name, smiles))
    return out


@dataclass(frozen=True)
class LigandInput:
    """One ligand as given: its SMILES and, optionally, its name."""

    smiles: str
    name: str | None = None


def ligands_from_smiles(items: list[LigandInput]) -> list[SmallMoleculeComponent]:
    """Molecules from SMILES; a :class:`PlanningError` names the first that cannot be read."""
    out = []
    for i, item in enumerate(items):
        try:
            out.append(SmallMoleculeComponent.from_smiles(item.smiles, item.name))
        except ModelError as exc:
            raise PlanningError(str(exc), index=i, name=item.name or item.smiles) from None
    return _unique_names(out)


def ligands_from_sdf(text: str) -> list[SmallMoleculeComponent]:
    """Molecules from SDF text, named by their title lines (``molecule <n>`` when a title is empty)."""
    records = [r for r in text.split("$$$$") if r.strip()]
    if not records:
        raise PlanningError("SDF text holds no molecules", index=0, name=None)
    out = []
    for i, record in enumerate(records):
        body = record.lstrip("\r\n")
        title = body.splitlines()[0].strip() if body else ""
        try:
            out.append(SmallMoleculeComponent.from_mol_block(body, name=title or f"molecule {i + 1}"))
        except ModelError as exc:
            raise PlanningError(str(exc), index=i, name=title or f"molecule {i + 1}") from None
    return _unique_names(out)


def _unique_names(ligands: list[SmallMoleculeComponent]) -> list[SmallMoleculeComponent]:
    seen: dict[str, int] = {}
    for i, ligand in enumerate(ligands):
        if ligand.name in seen:
            raise PlanningError(
                f"molecule {ligand.name!r} appears twice (positions {seen[ligand.name]} and {i})",
                index=i,
                name=ligand.name,
            )
        seen[ligand.name] = i
    return ligands
