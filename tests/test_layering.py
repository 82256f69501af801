"""Imports run one way: models → services/selectors → views → urls; writes live in services.

Every Python module of the project's apps is parsed (not imported) and its imports, at the top
and inside functions, are checked: a views module never imports another views module of the
project, and a models module imports neither views nor services. A views module also calls
no writing method (``save``, ``create``, ``update``, ``delete``, …): it calls a service.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("accounts", "callprep")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts
    }


def is_views(name: str) -> bool:
    """``views``, ``*_views`` or anything inside a ``views`` package."""
    parts = name.split(".")
    return any(part == "views" or part.endswith("_views") for part in parts)


def is_models(name: str) -> bool:
    parts = name.split(".")
    return any(part == "models" for part in parts)


def is_services(name: str) -> bool:
    last = name.split(".")[-1]
    return last == "services" or last == "workflow"


def imported(path: Path, name: str, known: set[str]) -> set[str]:
    """The project modules ``path`` imports; ``from x import y`` counts ``x`` and, when it is a
    module, ``x.y``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            targets = [f"{origin}.{alias.name}" for alias in node.names] + [origin]
        else:
            continue
        for target in targets:
            if target in known:
                found.add(target)
    return found


def violations() -> list[str]:
    modules = project_modules()
    known = set(modules)
    problems = []
    for name, path in modules.items():
        for target in imported(path, name, known):
            if target == name or name.startswith(target + "."):
                continue
            if is_views(name) and is_views(target):
                problems.append(f"{name} (a views module) imports {target}")
            if is_models(name) and (is_views(target) or is_services(target)):
                problems.append(f"{name} (a models module) imports {target}")
    return sorted(problems)


WRITES = {
    "save",
    "save_m2m",
    "create",
    "update",
    "delete",
    "bulk_create",
    "bulk_update",
    "get_or_create",
    "update_or_create",
}


def writes_in(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        f"{path.relative_to(ROOT)}:{node.lineno} .{node.func.attr}()"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in WRITES
    ]


def test_the_checker_sees_the_project_modules():
    modules = project_modules()
    assert "callprep.briefs.views" in modules and "accounts.account_views" in modules
    assert is_views("accounts.import_views") and is_views("callprep.views")
    assert not is_views("callprep.review.context")
    assert any(".create()" in w for w in writes_in(modules["callprep.evidence.services"]))
    assert "callprep.evidence.context" in imported(
        modules["callprep.evidence.views"], "callprep.evidence.views", set(modules)
    )


def test_no_views_module_imports_another_and_no_models_module_imports_views_or_services():
    assert violations() == []


def test_no_views_module_writes_to_the_database_itself():
    found = [
        w for name, path in project_modules().items() if is_views(name) for w in writes_in(path)
    ]
    assert found == []
