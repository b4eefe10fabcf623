#!/usr/bin/env python3
"""Checks that the layers of src/ only point down (docs/architecture.md, "Layers").

Every top-level module of the crate stands on one floor below. A `crate::<module>` path in a
file under src/<module>/ (or src/<module>.rs) is an import of that module, and a module may
import only modules on lower floors: so no two modules import each other in a loop, and the
core (floors up to `domain`) never imports the edge. A new top-level module must be given a
floor here. `python3 .ci/layers.py --graph` prints who imports whom.
"""
import pathlib
import re
import sys

# Bottom first. Modules on one floor may not import each other.
FLOORS = [
    # core
    ["bounds", "config", "telemetry"],
    ["metrics"],
    ["db"],
    ["entity"],
    ["error"],
    ["auth", "security"],
    ["mail"],
    ["idempotency"],
    ["domain"],
    # edge
    ["graphql"],
    ["state"],
    ["http"],
    ["rest"],
    ["server", "startup"],
    ["cli"],
]
FLOOR = {module: n for n, floor in enumerate(FLOORS) for module in floor}
ROOT = pathlib.Path(__file__).resolve().parent.parent / "src"
PATH = re.compile(r"\bcrate::([a-z_][a-z0-9_]*)")
GROUP = re.compile(r"\bcrate::\{([^}]*)\}", re.S)


def module_of(path: pathlib.Path) -> str | None:
    rel = path.relative_to(ROOT).parts
    if len(rel) == 1:
        name = rel[0].removesuffix(".rs")
        return None if name in ("lib", "main") else name
    return rel[0]


def imports() -> dict[str, dict[str, set[str]]]:
    """module -> imported module -> files that import it."""
    files = sorted(ROOT.rglob("*.rs"))
    modules = {module_of(p) for p in files} - {None}
    graph: dict[str, dict[str, set[str]]] = {m: {} for m in modules}
    for path in files:
        module = module_of(path)
        if module is None:
            continue
        # Comments and doc links are not imports.
        code = "\n".join(line.split("//", 1)[0] for line in path.read_text().splitlines())
        targets = set(PATH.findall(code))
        for group in GROUP.findall(code):
            for item in group.split(","):
                if item := item.strip():
                    targets.add(re.split(r"[:\s]", item, maxsplit=1)[0])
        for target in targets:
            # Items of the crate root (lib.rs) stand above every module.
            if target != module and target in modules:
                graph[module].setdefault(target, set()).add(str(path.relative_to(ROOT.parent)))
    return graph


def problems_of(graph: dict[str, dict[str, set[str]]]) -> list[str]:
    problems = [f"module {m} stands on no floor: add it to FLOORS in .ci/layers.py"
                for m in sorted(set(graph) - set(FLOOR))]
    for module, targets in sorted(graph.items()):
        for target, files in sorted(targets.items()):
            if module in FLOOR and target in FLOOR and FLOOR[target] >= FLOOR[module]:
                problems.append(f"{module} imports {target}, which is not below it: "
                                + ", ".join(sorted(files)))
    return problems


def self_test() -> None:
    """The check refuses what it exists to refuse: a core module importing the edge, a loop
    on one floor, a module on no floor; and accepts an import that points down."""
    assert not problems_of({"domain": {"db": {"a.rs"}}, "db": {}})
    assert problems_of({"db": {"rest": {"a.rs"}}, "rest": {}})
    assert problems_of({"auth": {"security": {"a.rs"}}, "security": {"auth": {"b.rs"}}})
    assert problems_of({"newthing": {}})


def main() -> int:
    self_test()
    graph = imports()
    if "--graph" in sys.argv:
        for module in sorted(graph, key=lambda m: (FLOOR.get(m, -1), m)):
            print(f"{module} -> {', '.join(sorted(graph[module])) or '-'}")
    problems = problems_of(graph)
    for line in problems:
        print(line)
    if problems:
        print("layering: FAILED (docs/architecture.md, \"Layers\")")
        return 1
    print(f"layering: ok ({len(graph)} modules on {len(FLOORS)} floors; every import points down)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
