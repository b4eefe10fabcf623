#!/usr/bin/env python3
"""Checks the layering of src/ (docs/architecture.md, "Layers").

Every `crate::<module>` path in a file under src/<module>/ (or src/<module>.rs) is an import of
that top-level module. The check fails when
  - two or more top-level modules import each other in a loop (the cycle is printed), or
  - a core module imports an edge module.
`python3 .ci/layers.py --graph` prints who imports whom.
"""
import pathlib
import re
import sys

CORE = ["bounds", "error", "config", "db", "entity", "auth", "security", "idempotency",
        "metrics", "telemetry", "mail", "domain"]
EDGE = ["http", "rest", "graphql", "server", "startup", "state", "cli"]
ROOT = pathlib.Path(__file__).resolve().parent.parent / "src"
PATH = re.compile(r"\bcrate::([a-z_][a-z0-9_]*)")
# `use crate::{a, b::c}` groups.
GROUP = re.compile(r"\bcrate::\{([^}]*)\}", re.S)


def module_of(path: pathlib.Path) -> str | None:
    rel = path.relative_to(ROOT).parts
    if len(rel) == 1:
        name = rel[0].removesuffix(".rs")
        return None if name in ("lib", "main") else name
    return rel[0]


def imports() -> dict[str, dict[str, set[str]]]:
    """module -> imported module -> files that import it."""
    modules = {module_of(p) for p in ROOT.rglob("*.rs")} - {None}
    graph: dict[str, dict[str, set[str]]] = {}
    for path in sorted(ROOT.rglob("*.rs")):
        module = module_of(path)
        if module is None:
            continue
        text = path.read_text()
        # Comments and doc links are not imports.
        code = "\n".join(line.split("//", 1)[0] for line in text.splitlines())
        targets = set(PATH.findall(code))
        for group in GROUP.findall(code):
            for item in group.split(","):
                item = item.strip()
                if item:
                    targets.add(re.split(r"[:\s]", item, maxsplit=1)[0])
        graph.setdefault(module, {})
        for target in targets:
            # Items of the crate root (lib.rs) are the top, above every module.
            if target != module and target in modules:
                graph[module].setdefault(target, set()).add(str(path.relative_to(ROOT.parent)))
    return graph


def cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main() -> int:
    graph = imports()
    unknown = sorted(set(graph) - set(CORE) - set(EDGE))
    if "--graph" in sys.argv:
        for module in sorted(graph):
            print(f"{module} -> {', '.join(sorted(graph[module])) or '-'}")
    problems = []
    if unknown:
        problems.append(f"modules in neither layer (add them to CORE or EDGE): {', '.join(unknown)}")
    for component in cycles(graph):
        problems.append("import cycle between: " + ", ".join(component))
        for a in component:
            for b in component:
                if b in graph.get(a, {}):
                    problems.append(f"  {a} -> {b}: {', '.join(sorted(graph[a][b]))}")
    for module in CORE:
        for target, files in sorted(graph.get(module, {}).items()):
            if target in EDGE:
                problems.append(f"core module {module} imports edge module {target}: {', '.join(sorted(files))}")
    for line in problems:
        print(line)
    if problems:
        print("layering: FAILED")
        return 1
    print(f"layering: ok ({len(graph)} modules, no cycle, no core -> edge import)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
