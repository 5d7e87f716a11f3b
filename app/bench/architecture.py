"""The shape of the code, measured: import cycles, imports against the layers, sizes, ``Any``.

The import graph is grimp's (the library import-linter stands on): every ``import`` in
``app``, ``ui`` and ``telephony``, those inside functions included, since an import moved
into a function to dodge a circle still ties the two modules together, and those under
``if TYPE_CHECKING:`` too (a type is a dependency). A cycle is a strongly connected
component of more than one module; a package cycle, one of the packages two levels down
(``app.hub``, ``ui.models``, ``telephony.sip``). An import "runs up" when a module
imports one of a higher layer (docs/architecture.md draws them):

    app.cli                      the command line, on top
    app.bench                    the benchmarks, driving hubs and desks
    ui                           the desk (PySide6)
    app.client                   the desk's side of the wire
    features                     appointments, audit, callback, directory, stats, ...
    app.hub                      the kernel
    app.config                   settings and their loader
    app, app.domain, app.db      the domain and its tables, and three libraries that
    app.psc, app.geo,            import nothing above them (OpenID client, communes,
    app.throwaway_pki            the certificates of the tests, benches and doubles)
    telephony                    independent: of app it may use app.resources only
    app.resources                packaged files

Features are one layer: they may use each other, as long as no circle forms. A directory
of modules without ``__init__.py`` is outside the graph; ``outside_graph`` names them.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections import Counter
from pathlib import Path
from typing import TypedDict

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "ui", "telephony")
LONG_FUNCTION = 80

# Layer rank of each top-level group, lowest first (see the module docstring).
_RANKS: dict[str, int] = {
    "app.resources": 0,
    "telephony": 1,
    "app": 2,
    "app.domain": 2,
    "app.db": 2,
    "app.psc": 2,
    "app.geo": 2,
    "app.throwaway_pki": 2,
    "app.config": 3,
    "app.hub": 4,
    "app.room": 6,  # the composition: the features given to the kernel
    "app.client": 6,
    "ui": 7,
    "app.bench": 8,
    "app.cli": 9,
}
_FEATURE_RANK = 5
_DICT_ANY = re.compile(r"\b(?:dict|Dict)\s*\[\s*str\s*,\s*Any\s*\]")


class Edge(TypedDict):
    importer: str
    imported: str


class Function(TypedDict):
    name: str
    lines: int


def group(module: str) -> str:
    """The top-level group a module belongs to: ``app.hub``, ``ui``, ``telephony``…"""
    parts = module.split(".")
    if parts[0] == "app":
        return "app" if len(parts) == 1 else f"app.{parts[1]}"
    return parts[0]


def package(module: str) -> str:
    """The module's package two levels down: ``app.hub``, ``ui.models``, ``telephony.sip``."""
    return ".".join(module.split(".")[:2])


def rank(module: str) -> int:
    return _RANKS.get(group(module), _FEATURE_RANK)


def is_upward(importer: str, imported: str) -> bool:
    return rank(importer) < rank(imported)


def import_edges(root: Path = ROOT) -> list[tuple[str, str]]:
    """Every (importer, imported) pair between the product's modules, grimp's graph."""
    import sys

    import grimp  # test extra (import-linter's own dependency)

    sys.path.insert(0, str(root))
    try:
        graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    finally:
        sys.path.remove(str(root))
    return sorted(
        (module, imported)
        for module in graph.modules
        for imported in graph.find_modules_directly_imported_by(module)
    )


def strongly_connected(edges: list[tuple[str, str]]) -> list[list[str]]:
    """Tarjan's components of more than one module, each sorted, biggest first."""
    succ: dict[str, list[str]] = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
        succ.setdefault(b, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(succ):
        if start in index:
            continue
        # Iterative depth-first walk: the graph is deep enough to hit the recursion limit.
        work: list[tuple[str, int]] = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            children = succ[node]
            if i < len(children):
                work.append((node, i + 1))
                child = children[i]
                if child not in index:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return sorted(found, key=lambda c: (-len(c), c))


def product_files(root: Path = ROOT) -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (root / package).rglob("*.py")
        if "__pycache__" not in path.parts
    )


def outside_graph(root: Path = ROOT) -> list[str]:
    """Directories of modules that grimp cannot see (no ``__init__.py`` on the way)."""
    outside = set()
    for path in product_files(root):
        rel = path.parent.relative_to(root)
        for depth in range(1, len(rel.parts) + 1):
            if not (root / Path(*rel.parts[:depth]) / "__init__.py").exists():
                outside.add(str(Path(*rel.parts[:depth])))
                break
    return sorted(outside)


def long_functions(tree: ast.AST, limit: int = LONG_FUNCTION) -> list[Function]:
    out: list[Function] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            if lines > limit:
                out.append({"name": node.name, "lines": lines})
    return out


def any_counts(source: str) -> tuple[int, int]:
    """``Any`` names in code (imports, comments and strings left out), ``dict[str, Any]``."""
    names = 0
    code: list[str] = []
    in_import = False
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.NAME and tok.string in ("import", "from"):
            in_import = True
        elif tok.type in (tokenize.NEWLINE, tokenize.NL) or tok.string == ";":
            in_import = False
        if tok.type == tokenize.NAME and tok.string == "Any" and not in_import:
            names += 1
        if tok.type not in (tokenize.COMMENT, tokenize.STRING):
            code.append(tok.string)
    return names, len(_DICT_ANY.findall(" ".join(code)))


def measure(root: Path = ROOT) -> dict[str, object]:
    edges = import_edges(root)
    upward = [{"importer": a, "imported": b} for a, b in edges if is_upward(a, b)]
    by_groups = Counter(f"{group(e['importer'])} -> {group(e['imported'])}" for e in upward)
    cycles = strongly_connected(edges)
    package_edges = {(package(a), package(b)) for a, b in edges if package(a) != package(b)}
    package_cycles = strongly_connected(sorted(package_edges))

    sizes: list[tuple[int, str]] = []
    functions: list[dict[str, object]] = []
    any_names = dict_any = 0
    for path in product_files(root):
        source = path.read_text(encoding="utf-8")
        rel = str(path.relative_to(root))
        sizes.append((len(source.splitlines()), rel))
        for function in long_functions(ast.parse(source, rel)):
            functions.append({"file": rel, **function})
        names, dicts = any_counts(source)
        any_names += names
        dict_any += dicts
    sizes.sort(reverse=True)
    functions.sort(key=lambda f: (-int(str(f["lines"])), str(f["file"])))
    return {
        "modules": len({m for edge in edges for m in edge}),
        "imports": len(edges),
        "cycles": len(cycles),
        "cycle_modules": cycles,
        "package_cycles": len(package_cycles),
        "package_cycle_members": package_cycles,
        "upward_imports": len(upward),
        "upward_by_groups": dict(sorted(by_groups.items())),
        "upward": upward,
        "biggest_module": {"file": sizes[0][1], "lines": sizes[0][0]},
        "biggest_modules": [{"file": f, "lines": n} for n, f in sizes[:5]],
        "functions_over_80_lines": len(functions),
        "long_functions": functions,
        "any": any_names,
        "dict_str_any": dict_any,
        "outside_graph": outside_graph(root),
    }
