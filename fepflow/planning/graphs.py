"""Graph algorithms on ligand indices: Kruskal's minimal spanning tree, stars, and cycle closure.

Edges are ``(i, j)`` with ``i < j``; costs are ``1 - score`` (lower is better). Ties are broken by
the indices, so the same input always gives the same network.
"""

from __future__ import annotations

from collections.abc import Iterable


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> bool:
        ri, rj = self.find(i), self.find(j)
        if ri == rj:
            return False
        self.parent[max(ri, rj)] = min(ri, rj)
        return True


def _key(edge: tuple[int, int]) -> tuple[int, int]:
    i, j = edge
    return (i, j) if i < j else (j, i)


def components(n: int, edges: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Connected components, each sorted, ordered by their smallest node."""
    uf = _UnionFind(n)
    for i, j in edges:
        uf.union(i, j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(uf.find(i), []).append(i)
    return sorted(groups.values())


def minimal_spanning_tree(n: int, costs: dict[tuple[int, int], float]) -> list[tuple[int, int]]:
    """Kruskal: the spanning tree of least total cost over the candidate edges ``costs``.

    Raises
    ------
    ValueError
        The candidate edges do not connect all ``n`` nodes (the message lists the groups).
    """
    uf = _UnionFind(n)
    tree = []
    for edge, _ in sorted(((_key(e), c) for e, c in costs.items()), key=lambda ec: (ec[1], ec[0])):
        if uf.union(*edge):
            tree.append(edge)
    if len(tree) != max(n - 1, 0):
        groups = components(n, costs)
        raise ValueError(f"the candidate edges leave {len(groups)} disconnected groups: {groups}")
    return sorted(tree)


def star_edges(n: int, centre: int, costs: dict[tuple[int, int], float]) -> list[tuple[int, int]]:
    """Every node joined to ``centre``; raises ValueError naming nodes with no candidate edge to it."""
    missing = [i for i in range(n) if i != centre and _key((centre, i)) not in {_key(e) for e in costs}]
    if missing:
        raise ValueError(f"nodes {missing} have no candidate edge to the centre {centre}")
    return [(centre, i) for i in range(n) if i != centre]


def nodes_off_cycles(n: int, edges: Iterable[tuple[int, int]]) -> list[int]:
    """Nodes that lie on no cycle: every edge at them is a bridge (or they have no edge)."""
    edge_list = sorted({_key(e) for e in edges})
    on_cycle: set[int] = set()
    for removed in edge_list:
        rest = [e for e in edge_list if e != removed]
        uf = _UnionFind(n)
        for i, j in rest:
            uf.union(i, j)
        if uf.find(removed[0]) == uf.find(removed[1]):  # not a bridge: lies on a cycle
            on_cycle.update(removed)
    return [i for i in range(n) if i not in on_cycle]


def add_cycle_edges(
    n: int, edges: Iterable[tuple[int, int]], costs: dict[tuple[int, int], float]
) -> list[tuple[int, int]]:
    """``edges`` plus the cheapest candidate edges needed to put every node on a cycle.

    Greedy: while some node is on no cycle, add the cheapest candidate edge not yet in the graph that
    puts the first such node on a cycle. A node without such a candidate (e.g. a graph of two nodes)
    is left as it is.
    """
    graph = {_key(e) for e in edges}
    candidates = sorted(((_key(e), c) for e, c in costs.items()), key=lambda ec: (ec[1], ec[0]))
    given_up: set[int] = set()
    while True:
        off = [i for i in nodes_off_cycles(n, graph) if i not in given_up]
        if not off:
            return sorted(graph)
        node = off[0]
        for edge, _ in candidates:
            if node in edge and edge not in graph:
                trial = graph | {edge}
                if node not in nodes_off_cycles(n, trial):
                    graph = trial
                    break
        else:
            given_up.add(node)
