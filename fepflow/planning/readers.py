"""Reading ligands from the files people have: each reader turns a file's text into molecules."""

from __future__ import annotations

import csv
import io


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
