"""Drawing and filing digits needs no model and no database driver: the folder store, the limits, the .npz files and
the page's modules import neither TensorFlow nor SQLAlchemy (the web server must never import TensorFlow)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_feature_imports_no_tensorflow_and_no_database_driver():
    code = ("import sys, core.class_digits, core.class_digits.cli, core.class_digits.verdict, "
            "core.class_digits.networks, core.class_digits.npz, core.class_digits.mosaic, ui.class_digits_view, "
            "ui.class_verdict_view\n"
            "print(sorted(m for m in ('tensorflow', 'keras', 'sqlalchemy', 'psycopg') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]"
