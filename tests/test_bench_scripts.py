"""The benchmarks in bench/ run by hand and in .ci/run (the failover drill), not under pytest, so a
name one bench takes from another (`http_load.card_token`, `from http_load import ...`) that is
no longer there fails only when that bench runs, minutes into it. This reads their source: every
such name must be defined or imported at the top level of the module it is taken from."""

import ast
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def top_level_names(module: Path) -> set[str]:
    names = set()
    for node in ast.parse(module.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def names_taken(script: Path, modules: set[str]) -> list[tuple[str, str, int]]:
    """(module, name, line) for every `module.name` (the script having imported that bench
    module whole) and `from module import name` in script."""
    tree = ast.parse(script.read_text())
    imported = {alias.asname or alias.name for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names} & modules
    taken = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in imported):
            taken.append((node.value.id, node.attr, node.lineno))
        elif isinstance(node, ast.ImportFrom) and node.module in modules:
            taken.extend((node.module, alias.name, node.lineno) for alias in node.names)
    return taken


def test_every_name_a_bench_takes_from_another_bench_exists():
    # Not the benches named like one of the project's packages (bench/booking.py): `booking.`
    # in a bench is the app.
    packages = {path.parent.name for path in BENCH.parent.glob("*/__init__.py")}
    modules = {path.stem: path for path in BENCH.glob("*.py") if path.stem not in packages}
    defined = {name: top_level_names(path) for name, path in modules.items()}
    missing = [f"{script.name}:{line}: {module}.{name}"
               for script in modules.values()
               for module, name, line in names_taken(script, set(modules))
               if name not in defined[module]]
    assert not missing, missing
    # The check reads what the drill takes from the load test (it once lost sign_in).
    assert ("http_load", "sign_in") in {(m, n) for m, n, _ in
                                         names_taken(modules["scale_drill"], set(modules))}
