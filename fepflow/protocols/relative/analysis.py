"""What the relative protocols' analysis adds to the per-leg MBAR: the end states' dispersion
correction and the drawing of the mapping.

    result = Σ sign(leg) (ΔG_leg(A -> B) + dispersion_leg)

Hydration: ΔΔG_hyd(A -> B) = ΔG_solvent - ΔG_vacuum = ΔG_hyd(B) - ΔG_hyd(A); a binding task: its one
leg's ΔG. The periodic legs get the end states' dispersion correction ``C_B / <V> - C_A / <V>``
(:mod:`fepflow.hybrid.dispersion`), with ``<V>`` the mean box volume of the replicas at the last
checkpoint (the setup box when none can be read).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from openmm import unit

from fepflow.engine.sampling import SamplingOutcome
from fepflow.engine.storage import open_reporter, read_last_iteration
from fepflow.models.components import SmallMoleculeComponent
from fepflow.models.transformations import AtomMapping
from fepflow.protocols.common.setup import SETUP_FOLDER, load_leg

KJ_PER_KCAL = 4.184

log = logging.getLogger(__name__)


def mean_volume_nm3(storage_path: Path, fallback_box_nm: np.ndarray | None) -> float | None:
    """Mean box volume over the replicas at the last checkpoint, else the fallback box's."""
    try:
        last = read_last_iteration(storage_path)
        with open_reporter(storage_path) as reporter:
            interval = int(reporter.checkpoint_interval)
            for iteration in (last, last - last % interval):
                states = reporter.read_sampler_states(iteration=iteration, analysis_particles_only=False)
                if states:
                    volumes = [float(s.volume.value_in_unit(unit.nanometer**3)) for s in states]
                    return float(np.mean(volumes))
    except Exception as exc:  # the storage may hold no box at all (vacuum) or be unreadable
        log.info("no box volume from %s (%s); using the starting box", storage_path, exc)
    if fallback_box_nm is None:
        return None
    return float(abs(np.linalg.det(np.asarray(fallback_box_nm))))


def dispersion_correction(
    workdir: Path, outcomes: Mapping[str, SamplingOutcome], signs: Mapping[str, float]
) -> tuple[float, float | None]:
    """The signed sum of the legs' end-state dispersion corrections (kcal/mol) and the last box
    volume it used (nm³; None where no leg has a box)."""
    correction, volume = 0.0, None
    for leg_name, outcome in outcomes.items():
        leg = load_leg(workdir / SETUP_FOLDER, leg_name)
        coefficients = leg.record.get("dispersion_coefficients_kj_mol_nm3")
        if coefficients:
            volume = mean_volume_nm3(outcome.storage_path, leg.box_vectors_nm)
            if volume:
                correction += signs[leg_name] * (coefficients[1] - coefficients[0]) / volume / KJ_PER_KCAL
    return correction, volume


def mapping_drawing(
    ligand_a: SmallMoleculeComponent, ligand_b: SmallMoleculeComponent, mapping: AtomMapping, bundle: Path
) -> dict[str, Path]:
    """The atom mapping drawn into the bundle (mapping.svg), where it can be drawn."""
    from fepflow.mapping import draw_mapping

    svg = draw_mapping(ligand_a, ligand_b, mapping)
    if not svg:
        return {}
    path = bundle / "mapping.svg"
    path.write_text(svg)
    return {"mapping.svg": path}
