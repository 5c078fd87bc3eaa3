"""The fast preset's implicit solvent flags the chemistry it cannot treat (measured in
fepflow.chemistry.implicit_limits), and only that."""

from __future__ import annotations

import pytest

from fepflow.chemistry.implicit_limits import implicit_solvent_warnings
from fepflow.models import SmallMoleculeComponent


def _warnings(smiles: str) -> list[str]:
    return implicit_solvent_warnings(SmallMoleculeComponent.from_smiles(smiles, "x"))


@pytest.mark.parametrize(
    "smiles",
    [
        "COS(=O)(=O)C",  # methyl methanesulfonate
        "CS(=O)(=O)C",  # dimethyl sulfone
        "COS(=O)(=O)OC",  # dimethyl sulfate
        "CS(N)(=O)=O",  # methanesulfonamide
        "COP(=O)(OC)OC",  # trimethyl phosphate
        "CCOP(=S)(OCC)Oc1ccc(cc1)[N+](=O)[O-]",  # parathion
    ],
)
def test_sulfonyls_and_phosphorus_are_refused_as_predictions(smiles: str) -> None:
    (warning,) = _warnings(smiles)
    assert "cannot treat" in warning and "production preset" in warning


@pytest.mark.parametrize(
    "smiles",
    ["CO", "C(CO)O", "C(C(CO)O)O", "Oc1ccccc1", "CS(=O)C", "CCS", "CSc1ccccc1", "COCCO", "Cc1ccccc1"],
)
def test_what_gb_treats_passes_unflagged(smiles: str) -> None:
    # alcohols and polyols (measured: no worse than methanol), phenol, sulfoxide, thiols, thioethers, ethers
    assert _warnings(smiles) == []


def test_the_planners_report_flags_them_for_the_fast_preset_only() -> None:
    from fepflow.planning.absolute import absolute_network
    from fepflow.planning.report import plan_report
    from fepflow.protocols.absolute.hydration import AbsoluteHydrationProtocol

    ligands = [SmallMoleculeComponent.from_smiles(s, n) for n, s in (("mms", "COS(=O)(=O)C"), ("meoh", "CO"))]
    for preset, flagged in (("fast", True), ("production", False)):
        settings = AbsoluteHydrationProtocol.preset_settings(preset)
        network = absolute_network(ligands, name="n", settings=settings)
        report = plan_report(network, ligands, shape="absolute", preset=preset)
        assert [w.split(":")[0] for w in report.warnings] == (["mms"] if flagged else [])
