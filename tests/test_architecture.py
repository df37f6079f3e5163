"""The layout shows the architecture (docs/architecture.md): faces → services and selectors →
models and algorithms, with no import cycle, and tasks found by their stable names."""

import ast
from pathlib import Path

from django.conf import settings

from observer.celery import app

REPORTS = Path(__file__).resolve().parent.parent / "reports"
FACES = ("reports.admin", "reports.api", "reports.views", "reports.forms", "reports.urls")
LOWER_LAYERS = ("reports.services", "reports.domain", "reports.models", "reports.selectors")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPORTS.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {
        module_name(path): path for path in REPORTS.rglob("*.py") if "migrations" not in path.parts
    }


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Project modules that `name` imports, at module level or inside functions alike."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            submodules = [f"{base}.{alias.name}" for alias in node.names]
            targets = [sub if sub in modules else base for sub in submodules]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycle_from(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as a path of module names, or [] when there is none."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = "open"
        stack.append(node)
        for successor in sorted(graph[node]):
            if state.get(successor) == "open":
                return [*stack[stack.index(successor) :], successor]
            if successor not in state and (found := visit(successor)):
                return found
        state[node] = "done"
        stack.pop()
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_cycle_finder_finds_a_cycle():
    assert cycle_from({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle_from({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_back():
    assert cycle_from(import_graph()) == []


def test_lower_layers_import_no_face_and_no_task():
    wrong = sorted(
        f"{name} imports {target}"
        for name, targets in import_graph().items()
        if name.startswith(LOWER_LAYERS)
        for target in targets
        if target.startswith((*FACES, "reports.tasks"))
    )
    assert wrong == []


def test_algorithms_import_no_service():
    wrong = sorted(
        f"{name} imports {target}"
        for name, targets in import_graph().items()
        if name.startswith("reports.domain")
        for target in targets
        if target.startswith("reports.services")
    )
    assert wrong == []


def test_faces_are_packages_not_prefixed_modules():
    loose = sorted(path.stem for path in REPORTS.glob("*.py") if path.stem != "__init__")
    prefixed = [
        stem for stem in loose if stem.startswith(("admin_", "views_", "forms_", "urls_", "tasks_"))
    ]
    assert prefixed == []
    assert len(loose) <= 12, loose


def test_every_task_has_a_stable_name_and_beat_names_registered_tasks():
    ours = {name for name in app.tasks if name.startswith("reports.")}
    assert "reports.aggregate_kicked" in ours
    assert all(name.count(".") == 1 for name in ours), sorted(ours)
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled - ours == set()
