"""No import cycle between the package's modules, counting imports inside functions (which only hide a cycle).

The graph comes from the AST of every module under workbench/: every `import x` and `from x import y`, at any
depth (function bodies, conditionals, try blocks), resolved to the package's own modules. A cycle is a
strongly connected component of more than one module (Tarjan, iterative).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "workbench"

KNOWN: list[set[str]] = []     # none: every cycle found is a failure


def module_name(path: Path, package: Path) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(tree: ast.AST, mod: str, is_pkg: bool, known: set[str]) -> set[str]:
    """The package modules `mod` imports anywhere in its body; `from a.b import c` counts a.b.c when c is a module."""
    out = set()
    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            prefix = ".".join(base[:len(base) - node.level + 1] + ([node.module] if node.module else [])) \
                if node.level else (node.module or "")
            names = [prefix] + [f"{prefix}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != mod:
                out.add(name)
    return out


def import_graph(package: Path) -> dict[str, set[str]]:
    files = {module_name(p, package): p for p in package.rglob("*.py")}
    known = set(files)
    return {mod: imported(ast.parse(p.read_text(encoding="utf-8")), mod, p.name == "__init__.py", known)
            for mod, p in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one module (iterative Tarjan)."""
    index, low, on, stack, found, counter = {}, {}, set(), [], [], [0]
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = set()
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.add(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    found.append(comp)
    return found


def test_the_package_has_no_import_cycle():
    found = [c for c in cycles(import_graph(PACKAGE)) if c not in KNOWN]
    assert not found, "import cycles: " + "; ".join(" <-> ".join(sorted(c)) for c in found)


def test_the_check_finds_a_cycle_hidden_inside_a_function(tmp_path):
    """The check is live: two modules that import each other, one of them only inside a function, are a cycle."""
    pkg = tmp_path / "workbench"
    (pkg / "train").mkdir(parents=True)
    for init in (pkg / "__init__.py", pkg / "train" / "__init__.py"):
        init.write_text("")
    (pkg / "train" / "a.py").write_text("from workbench.train.b import g\n\ndef f():\n    return g()\n")
    (pkg / "train" / "b.py").write_text("def g():\n    from workbench.train import a   # hidden\n    return a\n")
    (pkg / "train" / "c.py").write_text("from . import a\n")        # relative import, no cycle
    assert cycles(import_graph(pkg)) == [{"workbench.train.a", "workbench.train.b"}]
