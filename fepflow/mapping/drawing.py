"""An SVG of two ligands side by side, mapped heavy atoms highlighted in the same colour (and of one
ligand alone, for tables).

Hydrogens are not drawn (a mapped heavy atom carries its mapped hydrogens). B's 2D depiction is laid
out with its mapped atoms at the coordinates of their partners in A, so the common core looks the
same in both panels; atoms that appear or disappear are drawn in a pale red.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from fepflow.models.components import SmallMoleculeComponent
from fepflow.models.transformations import AtomMapping

CORE_COLOUR = (0.55, 0.85, 0.55)
UNIQUE_COLOUR = (1.0, 0.7, 0.7)
_ORIGINAL = "fepflow_index"


def _depiction(molecule: SmallMoleculeComponent) -> Any:
    from rdkit import Chem

    mol = molecule.to_rdkit()
    mol.RemoveAllConformers()
    for atom in mol.GetAtoms():
        atom.SetIntProp(_ORIGINAL, atom.GetIdx())
    return Chem.RemoveHs(mol)


def _index(mol: Any) -> dict[int, int]:
    """Original (explicit-H) index -> index in the drawn molecule."""
    return {atom.GetIntProp(_ORIGINAL): atom.GetIdx() for atom in mol.GetAtoms()}


def draw_mapping(
    ligand_a: SmallMoleculeComponent,
    ligand_b: SmallMoleculeComponent,
    mapping: AtomMapping,
    *,
    panel_size: tuple[int, int] = (350, 300),
) -> str:
    """SVG text of ``ligand_a`` (left) and ``ligand_b`` (right) with ``mapping``'s core highlighted.

    Raises
    ------
    ValueError
        A mapping index outside either molecule.
    """
    from rdkit.Chem import rdDepictor
    from rdkit.Chem.Draw import rdMolDraw2D
    from rdkit.Geometry import Point2D

    n_a, n_b = ligand_a.n_atoms, ligand_b.n_atoms
    if any(a >= n_a or b >= n_b for a, b in mapping.pairs):
        raise ValueError(
            f"mapping indices out of range for {ligand_a.name!r} ({n_a}) / {ligand_b.name!r} ({n_b})"
        )
    mol_a, mol_b = _depiction(ligand_a), _depiction(ligand_b)
    index_a, index_b = _index(mol_a), _index(mol_b)
    core = [(index_a[a], index_b[b]) for a, b in mapping.pairs if a in index_a and b in index_b]

    rdDepictor.SetPreferCoordGen(True)
    rdDepictor.Compute2DCoords(mol_a)
    conf_a = mol_a.GetConformer()
    coord_map = {j: Point2D(conf_a.GetAtomPosition(i).x, conf_a.GetAtomPosition(i).y) for i, j in core}
    try:
        rdDepictor.Compute2DCoords(mol_b, coordMap=coord_map)
    except ValueError:
        rdDepictor.Compute2DCoords(mol_b)

    mapped_a, mapped_b = {i for i, _ in core}, {j for _, j in core}
    highlights, colours = [], []
    for mol, mapped in ((mol_a, mapped_a), (mol_b, mapped_b)):
        atoms = list(range(mol.GetNumAtoms()))
        highlights.append(atoms)
        colours.append({i: CORE_COLOUR if i in mapped else UNIQUE_COLOUR for i in atoms})
    width, height = panel_size
    drawer = rdMolDraw2D.MolDraw2DSVG(2 * width, height, width, height)
    score = f", score {mapping.score:.3f}" if mapping.score is not None else ""
    legends = [f"{ligand_a.name} (A)", f"{ligand_b.name} (B): {len(core)} heavy atoms mapped{score}"]
    drawer.DrawMolecules(
        [mol_a, mol_b],
        highlightAtoms=highlights,
        highlightAtomColors=colours,
        highlightBonds=[[], []],
        legends=legends,
    )
    drawer.FinishDrawing()
    svg = str(drawer.GetDrawingText())
    # RDKit draws text as paths: a <title> keeps the legend readable by people and programs
    title = escape(" | ".join(legends))
    head, sep, tail = _split_after_svg_tag(svg)
    return f"{head}{sep}<title>{title}</title>\n{tail}"


def draw_molecule(molecule: SmallMoleculeComponent, *, size: tuple[int, int] = (180, 130)) -> str:
    """SVG text of ``molecule``'s 2-D depiction (heavy atoms, transparent background), titled with its
    name."""
    from rdkit.Chem import rdDepictor
    from rdkit.Chem.Draw import rdMolDraw2D

    mol = _depiction(molecule)
    rdDepictor.SetPreferCoordGen(True)
    rdDepictor.Compute2DCoords(mol)
    drawer = rdMolDraw2D.MolDraw2DSVG(*size)
    options: Any = drawer.drawOptions()
    options.clearBackground = False
    drawer.DrawMolecule(mol)
    drawer.FinishDrawing()
    head, sep, tail = _split_after_svg_tag(str(drawer.GetDrawingText()))
    title = escape(molecule.name).encode("ascii", "xmlcharrefreplace").decode()  # the SVG says iso-8859-1
    return f"{head}{sep}<title>{title}</title>\n{tail}"


def _split_after_svg_tag(svg: str) -> tuple[str, str, str]:
    start = svg.index("<svg")
    end = svg.index(">", start) + 1
    return svg[:end], "\n", svg[end:].lstrip("\n")
