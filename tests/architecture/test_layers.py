"""The shape of the code, checked: the import contracts in pyproject.toml hold, they do catch an
import made the wrong way, and imports sit at module top (docs/design/style.md, "Layout we aim
for")."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = (
    "crm",
    "cms",
    "campaigns",
    "events",
    "accounts",
    "outreach",
    "banking",
    "relations",
    "fundraising",
    "permille",
    "ops",
    "config",
)
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# The few imports that must stay inside a function, each with its reason: modules that connect
# receivers when imported can only be imported once Django's apps are loaded.
ALLOWED_LOCAL_IMPORTS = {
    ("crm/apps.py", "ready"),
    ("cms/apps.py", "ready"),
    ("campaigns/apps.py", "ready"),
    ("outreach/apps.py", "ready"),
    ("ops/apps.py", "ready"),
    # Only the configured tasks backend's own package is imported: django_rq needs RQ's
    # settings, django_tasks_db's models an installed app.
    ("ops/metrics.py", "task_counts"),
    # gunicorn reads its config before Django starts; the client only with multiprocess metrics.
    ("config/gunicorn.py", "child_exit"),
    # WeasyPrint's import is a quarter of Django's setup, which few processes need.
    ("crm/pdf.py", "weasyprint"),
}


def lint_imports(cwd):
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", "pyproject.toml", "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def project_copy(tmp_path):
    """The packages the contracts read and pyproject.toml, copied: a place to break things."""
    for package in (*PRODUCT, "standin"):
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_import_contracts_hold():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("crm/probe.py", "import campaigns.models", "crm is the core"),
        ("crm/probe.py", "from cms import blocks", "crm is the core"),
        ("crm/probe.py", "from outreach import segments", "crm never imports it"),
        ("cms/probe.py", "from campaigns import reports", "cms tells the story"),
        ("campaigns/probe.py", "import ops.urls", "no product app imports it"),
        ("campaigns/probe.py", "import standin.server", "Stripe stand-in"),
        ("campaigns/probe.py", "from events import orders", "events sit above"),
        ("crm/probe.py", "import events.models", "crm is the core"),
        ("crm/receipt_files.py", "from crm import gifts", "money path runs one way"),
        ("crm/links.py", "from crm import outbox", "money path runs one way"),
    ],
)
def test_an_import_the_wrong_way_breaks_the_contracts(project_copy, module, line, contract):
    # given the project with one import made the wrong way
    path = project_copy / module
    source = path.read_text() if path.exists() else ""
    path.write_text(f"{line}  # noqa\n{source}")
    # when the contracts are checked
    result = lint_imports(project_copy)
    # then they fail, naming the broken one
    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, result.stdout


def test_a_cycle_between_two_modules_breaks_the_contracts(project_copy):
    # given crm.money importing crm.models, which imports crm.money
    path = project_copy / "crm" / "money.py"
    path.write_text("from crm import models  # noqa\n" + path.read_text())
    result = lint_imports(project_copy)
    assert result.returncode != 0
    assert "no import cycles" in result.stdout.split("Broken contracts", 1)[-1]


def _local_imports(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    found.append((node.name, inner.lineno))
    return found


def test_imports_sit_at_module_top():
    stray = []
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            relative = path.relative_to(ROOT).as_posix()
            for function, line in _local_imports(path):
                if (relative, function) not in ALLOWED_LOCAL_IMPORTS:
                    stray.append(f"{relative}:{line} in {function}()")
    assert stray == [], "imports inside functions:\n" + "\n".join(stray)
