"""cinnabar's CSV read back the way cinnabar reads it, for tests (cinnabar is not a dependency)."""

from __future__ import annotations

import io


def read_cinnabar(text: str) -> tuple[dict[str, tuple[float, float]], list[tuple[str, str, float, float]]]:
    """The reading rules of cinnabar's ``read_csv`` (wrangle.py in 0.2, femap.py since): a line with
    "Experiment" opens the experimental block, one with "Calculate" or "Relative" the calculated
    block; a line not starting with "#" of 3 fields there is (ligand, ΔG, σ) with the ligand as
    written, of 5 fields here is (A, B, ΔΔG, σ_MBAR, σ_other), names stripped, σ = σ_MBAR + σ_other."""
    experimental: dict[str, tuple[float, float]] = {}
    calculated = []
    expt_block = calc_block = False
    for line in io.StringIO(text):
        if "Experiment" in line:
            expt_block = True
        if "Calculate" in line or "Relative" in line:
            expt_block, calc_block = False, True
        fields = line.split(",")
        if expt_block and len(fields) == 3 and line[0] != "#":
            experimental[fields[0]] = (float(fields[1]), float(fields[2]))
        if calc_block and len(fields) == 5 and line[0] != "#":
            a, b, ddg, mbar, other = fields
            calculated.append((a.strip(), b.strip(), float(ddg), float(mbar) + float(other)))
    return experimental, calculated
