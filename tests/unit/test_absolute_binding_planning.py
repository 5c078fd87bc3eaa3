"""Planning an absolute binding campaign from the files a chemist has (PDB + SDF): one transformation
per ligand against one apo node, and bad input refused before anything runs."""

from __future__ import annotations

import numpy as np
import pytest

from fepflow.data import t4l99a
from fepflow.planning import CampaignRequest, PlanningError, plan_campaign, read_experimental_csv
from fepflow.protocols.absolute.binding import AbsoluteBindingProtocol


def _request(**changes: object) -> CampaignRequest:
    base: dict[str, object] = {
        "protocol": "absolute-binding",
        "sdf": t4l99a.ligands_sdf(),
        "protein_pdb": t4l99a.protein_pdb(),
        "protein_name": "T4L99A",
        "preset": "smoke",
    }
    return CampaignRequest(**{**base, **changes})  # type: ignore[arg-type]


def test_one_transformation_per_ligand_against_one_apo_protein() -> None:
    plan = plan_campaign(_request(experimental=read_experimental_csv(t4l99a.experimental_csv())))
    network = plan.network
    assert sorted(t.name for t in network.edges) == [
        f"binding of {n}" for n in ("benzene", "p-xylene", "toluene")
    ]
    apo = {t.state_b.key for t in network.edges}
    assert len(apo) == 1 and len(network.nodes) == 4
    for t in network.edges:
        assert t.protocol == "absolute-binding" and t.state_a.protein is not None
        assert t.state_a.protein.key == t.state_b.protein.key  # type: ignore[union-attr]
        AbsoluteBindingProtocol.for_transformation(t).validate(t)
    assert plan.report.shape == "absolute" and plan.report.protein is not None
    assert [v.ligand for v in plan.experimental] == ["benzene", "toluene", "p-xylene"]


def _posed_sdf(smiles: str, name: str) -> str:
    from rdkit import Chem
    from rdkit.Chem import AllChem

    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    AllChem.EmbedMolecule(mol, randomSeed=3)
    toluene = next(lig for lig in t4l99a.ligands() if lig.name == "toluene")
    shift = np.asarray(toluene.conformer).mean(axis=0) - mol.GetConformer().GetPositions().mean(axis=0)
    conf = mol.GetConformer()
    for i, p in enumerate(conf.GetPositions() + shift):
        conf.SetAtomPosition(i, p.tolist())
    mol.SetProp("_Name", name)
    return Chem.MolToMolBlock(mol) + "$$$$\n"


def test_charged_ligand_is_refused_with_the_reason() -> None:
    with pytest.raises(PlanningError, match=r"benzoate.* net charge -1") as info:
        plan_campaign(_request(sdf=_posed_sdf("[O-]C(=O)c1ccccc1", "benzoate")))
    assert info.value.field == "sdf"


def test_absolute_binding_needs_the_protein_and_posed_ligands() -> None:
    with pytest.raises(PlanningError, match="absolute-binding needs the protein"):
        plan_campaign(_request(protein_pdb=None))
    with pytest.raises(PlanningError, match="takes no shape, reference or edges"):
        plan_campaign(_request(shape="star"))
