"""Chemistry the generalised-Born implicit solvent (the ``fast`` preset) cannot treat, and why.

GBSA-OBC2 was fitted (Onufriev, Bashford & Case 2004) with mbondi2 intrinsic radii for H, C, N and O;
sulfur and phosphorus keep Bondi-like radii (S 0.18 nm, P 0.185 nm) that no hydration data tested.
That matters little for thioethers or a sulfoxide, whose S carries a small AM1-BCC charge, but a
sulfonyl S(VI) carries +1.3 to +1.8 e and a phosphate P(V) +1.6 e, and their Born self-energy then
hangs on that one untested radius. Measured on GAFF2/AM1-BCC parameters against FreeSolv's published
GAFF values in TIP3P (FreeSolv v0.52; ``bench/implicit_limits.py``), the fast preset's model with 100 ps
of sampling per state (MBAR errors 0.1 kcal/mol):

* methyl methanesulfonate -17.1 kcal/mol where TIP3P gives -8.8: 8.3 kcal/mol too favourable (the
  issue's sulfonate ester); dimethyl sulfone -15.5 against -10.6 (4.9); trimethyl phosphate -13.4
  against -10.6 (2.8); methanesulfonamide -15.1 (no FreeSolv value, and its replicas barely mix);
* single conformations (GB-minimised, OBC2 minus vacuum energy) of dimethyl sulfate and
  methanesulfonyl chloride: 8.7 and 9.8 kcal/mol too favourable; dimethyl sulfoxide 0.8;
* with FreeSolv's own parameters (the very ones its TIP3P values were computed with) single
  conformations in OBC2 are still 5.4 (methyl methanesulfonate), 4.5 (dimethyl sulfone), 7.0
  (dimethyl sulfate), 8.9 (methanesulfonyl chloride) and 3.4 (trimethyl phosphate) kcal/mol too
  favourable, dimethyl sulfoxide 0.6 and phenol 0.5: the charges are not the cause;
* the error moves by about 1.2 kcal/mol per 0.01 nm of the S or P radius (S at 0.22-0.24 nm would
  match TIP3P for the sulfonyls): the model, not the charges or the sampling, is what fails. GBn2
  (mbondi3) is no cure: sulfonyls are as far off, and trimethyl phosphate's value is absurd (-76).

Polyols are not singled out: ethylene glycol comes out -8.4 against TIP3P's -7.3 and glycerol -10.7
against -10.1, no worse than methanol (-4.7 against -3.5), the ~1 kcal/mol over-stabilisation of
hydroxyl groups that OBC2 shows everywhere (the fast preset's results already say they are for demos).

:func:`implicit_solvent_warnings` names the groups that fail; the hydration protocol records its
warnings in every implicit-solvent result and the planner shows them, so a fast-preset number for such
a molecule is never read as a prediction.
"""

from __future__ import annotations

from typing import Any

HYPERVALENT = {
    "sulfonyl S(VI) (sulfone, sulfonate, sulfate, sulfonamide, sulfonyl halide)": "[SX4](=O)(=O)",
    "phosphorus (phosphate, phosphonate, thiophosphate)": "[#15]",
}
"""Groups whose GB value is off by several kcal/mol (SMARTS, by what they are)."""
UNTRUSTED_KCAL_MOL = "3-10"
"""How far off the hypervalent groups come out (measured, see the module)."""


def implicit_solvent_warnings(molecule: Any, name: str | None = None) -> list[str]:
    """Why an implicit-solvent (GB-OBC2) hydration free energy of ``molecule`` (an RDKit molecule or
    anything with ``to_rdkit()``) is not to be trusted; empty where nothing is known to fail."""
    from rdkit import Chem

    mol = molecule.to_rdkit() if hasattr(molecule, "to_rdkit") else molecule
    label = name or getattr(molecule, "name", None) or Chem.MolToSmiles(mol)
    warnings = []
    for what, smarts in HYPERVALENT.items():
        if mol.HasSubstructMatch(Chem.MolFromSmarts(smarts)):
            warnings.append(
                f"{label}: implicit solvent (GB-OBC2) cannot treat {what}: measured {UNTRUSTED_KCAL_MOL} "
                "kcal/mol too favourable against explicit TIP3P (untested S/P radii); do not use this "
                "value, run the production preset (explicit water)"
            )
    return warnings
