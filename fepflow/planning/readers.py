"""Reading the files people have: ligands (SMILES, SDF, CSV), experimental values and edge lists."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

from fepflow.models.base import ModelError
from fepflow.models.components import SmallMoleculeComponent
from fepflow.models.network_results import ExperimentalValue
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


_KCAL_PER_KJ = 1.0 / 4.184
_NAME_COLUMNS = ("name", "ligand", "molecule", "compound", "id")
_ERROR_WORDS = ("err", "uncert", "sigma", "std")
"""A column whose name holds one of these is the error (``error``, ``dG_err``, ``uncertainty_kcal_mol``)."""
_DG_PREFIXES = ("dg", "δg")
_DG_COLUMNS = ("exp", "expt", "experimental", "value")


def _rows(text: str) -> list[tuple[int, list[str]]]:
    """Non-empty CSV rows with their line numbers; lines starting with ``#`` are comments."""
    lines = [(i + 1, line) for i, line in enumerate(text.splitlines()) if line.strip()]
    kept = [(n, line) for n, line in lines if not line.lstrip().startswith("#")]
    parsed = csv.reader(io.StringIO("\n".join(line for _, line in kept)))
    return [(n, [c.strip() for c in row]) for (n, _), row in zip(kept, parsed, strict=True)]


def _number(text: str) -> float | None:
    try:
        value = float(text.replace("−", "-"))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _experimental_columns(header: list[str]) -> tuple[int, int, int | None, float]:
    """Columns of name, ΔG and error in a header row, and the factor to kcal/mol."""
    lower = [c.lower().replace(" ", "_") for c in header]
    is_error = [any(w in c for w in _ERROR_WORDS) for c in lower]
    name = next((i for i, c in enumerate(lower) if c in _NAME_COLUMNS), 0)
    dg = next(
        (
            i
            for i, c in enumerate(lower)
            if not is_error[i] and i != name and (c.startswith(_DG_PREFIXES) or c in _DG_COLUMNS)
        ),
        None,
    )
    if dg is None:
        raise PlanningError(
            f"the experimental CSV's header {header} names no ΔG column (dG, dg_kcal_mol, value)",
            field="experimental",
        )
    error = next((i for i in range(len(lower)) if is_error[i]), None)
    factor = _KCAL_PER_KJ if "kj" in lower[dg] else 1.0
    return name, dg, error, factor


def read_experimental_csv(text: str) -> list[ExperimentalValue]:
    """Measured free energies from a CSV ``name,dG,error`` (kcal/mol; a ``dG_kJ_mol`` column is
    converted). A header row is optional; ``#`` lines are comments; the error column is optional.

    Raises
    ------
    PlanningError
        No rows, a row without a number, a negative error, or a name given twice (the line named).
    """
    rows = _rows(text)
    if not rows:
        raise PlanningError("the experimental CSV holds no rows", field="experimental")
    columns: tuple[int, int, int | None, float] = (0, 1, 2, 1.0)
    if len(rows[0][1]) < 2 or _number(rows[0][1][1]) is None:
        columns, rows = _experimental_columns(rows[0][1]), rows[1:]
    name_col, dg_col, error_col, factor = columns
    values: dict[str, ExperimentalValue] = {}
    for line, row in rows:
        name = row[name_col] if name_col < len(row) else ""
        dg = _number(row[dg_col]) if dg_col < len(row) else None
        raw_error = row[error_col] if error_col is not None and error_col < len(row) else ""
        error = _number(raw_error) if raw_error else 0.0
        if not name or dg is None or error is None or error < 0:
            raise PlanningError(
                f"experimental CSV line {line} ({','.join(row)!r}): expected a name, a ΔG and an "
                "optional non-negative error, in kcal/mol",
                field="experimental",
            )
        if name in values:
            raise PlanningError(
                f"experimental CSV line {line}: {name!r} is given twice", field="experimental"
            )
        values[name] = ExperimentalValue(
            ligand=name, dg_kcal_mol=dg * factor, uncertainty_kcal_mol=error * factor
        )
    return list(values.values())


_EDGE_HEADERS = {
    ("ligand_a", "ligand_b"),
    ("a", "b"),
    ("from", "to"),
    ("source", "target"),
    ("ligand a", "ligand b"),
}


def read_edges_csv(text: str) -> list[tuple[str, str]]:
    """Ligand pairs ``A,B`` (one edge A -> B per row; a header such as ``ligand_a,ligand_b`` and ``#``
    comment lines are allowed).

    Raises
    ------
    PlanningError
        No rows, a row without two names, an edge from a ligand to itself, or a pair given twice.
    """
    rows = _rows(text)
    if rows and tuple(c.lower() for c in rows[0][1][:2]) in _EDGE_HEADERS:
        rows = rows[1:]
    if not rows:
        raise PlanningError("the edges CSV holds no rows", field="edges")
    edges: list[tuple[str, str]] = []
    for line, row in rows:
        names = [c for c in row if c]
        if len(names) != 2 or names[0] == names[1]:
            raise PlanningError(
                f"edges CSV line {line} ({','.join(row)!r}): expected two different ligand names",
                field="edges",
            )
        a, b = names
        if (a, b) in edges or (b, a) in edges:
            raise PlanningError(
                f"edges CSV line {line}: the pair {a!r} - {b!r} is given twice", field="edges"
            )
        edges.append((a, b))
    return edges
