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
