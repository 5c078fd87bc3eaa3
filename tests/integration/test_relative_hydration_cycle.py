"""A three-ligand cycle closes: methane -> ethane -> methanol -> methane at ``fast`` length (TIP3P).

The closure (signed sum of the three ΔΔG_hyd) must lie within 2σ of zero, σ from the three edges'
MBAR errors; the network estimate reports the same closure. About 15 minutes per edge on one CPU
thread here; minutes on a GPU. FEPFLOW_CYCLE_ITERATIONS shortens the run (iterations per window).

Measured here (FEPFLOW_CYCLE_ITERATIONS=15; CPU, one thread, shared 2-core machine, 16.3 min):
methane -> ethane +0.27 ± 0.29, ethane -> methanol -6.01 ± 0.45, methanol -> methane +6.13 ± 0.36
kcal/mol (FreeSolv's published GAFF differences: +0.01, -5.95, +5.94); closure +0.39 ± 0.64.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from fepflow.analysis.network import edges_from_estimates, estimate_network
from fepflow.data.freesolv import entry, published_parameters
from fepflow.models import SmallMoleculeComponent
from fepflow.planning import plan_network
from fepflow.protocols.relative.hydration import RelativeHydrationProtocol

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.validation]

LIGANDS = ("methane", "ethane", "methanol")


@pytest.mark.timeout(3 * 3600)
def test_three_ligand_cycle_closes(tmp_path: Path) -> None:
    overrides = {}
    if os.environ.get("FEPFLOW_CYCLE_ITERATIONS"):
        overrides = {"simulation": {"production_iterations": int(os.environ["FEPFLOW_CYCLE_ITERATIONS"])}}
    settings = RelativeHydrationProtocol.preset_settings("fast", **overrides)
    ligands = [SmallMoleculeComponent.from_smiles(entry(n).smiles, n) for n in LIGANDS]
    network = plan_network(
        ligands,
        edges=[("methane", "ethane"), ("ethane", "methanol"), ("methanol", "methane")],
        settings=settings,
    )
    params = {n: published_parameters(n) for n in LIGANDS}
    estimates = {}
    for edge in network.edges:
        summary = (
            RelativeHydrationProtocol.for_transformation(edge)
            .run_task(
                edge,
                repeat=0,
                workdir=tmp_path / edge.key,
                platform="CPU",
                threads=1,
                ligand_parameters=params,
            )
            .summary
        )
        estimates[edge.key] = (summary.dg_kcal_mol, summary.dg_mbar_error_kcal_mol)
    result = estimate_network(edges_from_estimates(network, estimates))
    (cycle,) = result.cycles
    figures = {
        "edges": {f"{e.a} -> {e.b}": (e.dg, e.sigma) for e in edges_from_estimates(network, estimates)},
        "closure_kcal_mol": cycle.closure,
        "sigma_kcal_mol": cycle.sigma,
        "mle_kcal_mol": {n: result.value(n) for n in LIGANDS},
    }
    (tmp_path / "cycle.json").write_text(json.dumps(figures, indent=1))
    print(json.dumps(figures, indent=1))
    assert cycle.within_2_sigma, figures
    # the three edges already run round the cycle: its closure is their plain sum
    assert abs(cycle.closure) == pytest.approx(abs(sum(v for v, _ in estimates.values())), abs=1e-9)
