"""The import direction of ../shared/STYLE.md: core never imports streamlit; reading needs no TensorFlow."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(folder: str) -> set[tuple[str, str]]:
    found = set()
    for path in (ROOT / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {(path.name, alias.name.split(".")[0]) for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add((path.name, node.module.split(".")[0]))
    return found


def test_core_never_imports_streamlit_or_ui():
    offending = {pair for pair in imported_modules("core") if pair[1] in {"streamlit", "ui", "app_pages"}}
    assert offending == set()


def test_ui_never_imports_pages():
    assert {pair for pair in imported_modules("ui") if pair[1] == "app_pages"} == set()


def test_reading_the_store_and_the_ui_modules_do_not_import_tensorflow():
    """Pages that do not train paint before TensorFlow (seconds to import) is loaded."""
    code = ("import sys, core.cli, core.runs, core.data, core.evaluation, core.config\n"
            "import ui.cache, ui.controls, ui.progress, ui.background, ui.compare_view, ui.data_view, ui.runs_view\n"
            "import ui.plots\n"
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]"


def test_ray_is_imported_only_by_the_ray_executor():
    """The app's first paint and memory do not pay for Ray unless a study runs on it."""
    importers = {name for name, module in imported_modules("core") | imported_modules("ui") if module == "ray"}
    assert importers == {"ray_executor.py"}
    code = ("import sys, core.cli, core.study, core.robustness, ui.study_view, ui.compare_view, ui.controls\n"
            "import ui.progress, ui.background\n"
            "print('ray' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "False"


def core_import_graph() -> dict[str, set[str]]:
    """core's modules and the project modules each imports, counting imports written inside functions (an arrow
    is an arrow wherever it is written); importing a package's submodule is not counted as importing the package."""
    modules = {}
    for path in (ROOT / "core").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = {module: set() for module in modules}
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parents = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(parents + ([base] if base else []))
                # `from core.runs import store` names the submodule; `from core.runs.store import X` the module
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                           for alias in node.names]
            else:
                continue
            graph[module] |= {found for found in map(resolve, targets) if found and found != module}
    return graph


def test_cores_imports_go_one_way_even_inside_functions():
    """../shared/STYLE.md: an import written inside a function is still an arrow. A cycle anywhere in core (a
    package's `__init__` re-exporting what its modules define is the only way back up, and it is not counted)."""
    graph = core_import_graph()
    index, low, stack, on_stack, cycles, counter = {}, {}, [], set(), [], [0]

    def visit(module):  # Tarjan's strongly connected components
        index[module] = low[module] = counter[0]
        counter[0] += 1
        stack.append(module)
        on_stack.add(module)
        for target in graph[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                found = stack.pop()
                on_stack.discard(found)
                component.append(found)
                if found == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in graph:
        if module not in index:
            visit(module)
    assert cycles == []


def test_the_cycle_check_sees_an_import_written_inside_a_function():
    """The check can fail: the graph has the arrows that functions' imports draw (core/runs/jobs.py loads a stored
    run's model through the store, inside a function, and is imported by the service)."""
    graph = core_import_graph()
    assert "core.runs.store" in graph["core.runs.jobs"] and "core.runs.jobs" in graph["core.runs.service"]
