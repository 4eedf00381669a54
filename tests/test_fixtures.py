"""The suite's own fixtures: a session fixture is defined in one place and never imported.

Importing a fixture into another conftest or test module (`from tests.x.conftest import f`)
registers a second fixture under the same name, with its own cache. For a session fixture that
means two values in one test process: tests/events' conftest imported the giving tests' webhook
capture, so a process that ran tests of both made a second capture, registered under the same
stand-in endpoint id, and the giving tests that came after (still holding the first capture)
never received a Stripe event again: the refund-concurrency test failed only in whole-suite
runs. Share a session fixture by putting it in a conftest above every directory that uses it.
"""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
SHARED_SCOPES = {"session", "package"}


def _module_name(path, root):
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _scope(decorator):
    """The scope given to `@pytest.fixture(...)`, or None for anything else."""
    if not isinstance(decorator, ast.Call):
        return None
    func = decorator.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name != "fixture":
        return None
    for keyword in decorator.keywords:
        if keyword.arg == "scope" and isinstance(keyword.value, ast.Constant):
            return keyword.value.value
    return "function"


def _imported(node, module):
    """(module, name) pairs an `import from` statement in `module` brings in."""
    if node.level:
        package = module.split(".")[: -node.level]
        source = ".".join(package + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    return [(source, alias.name) for alias in node.names]


def imported_shared_fixtures(root=TESTS):
    """Every `from … import name` under `root` that imports a session or package fixture."""
    trees = {
        _module_name(path, root): (path, ast.parse(path.read_text(), str(path)))
        for path in sorted(root.rglob("*.py"))
    }
    shared = {
        (module, node.name)
        for module, (_path, tree) in trees.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        and any(_scope(d) in SHARED_SCOPES for d in node.decorator_list)
    }
    return [
        f"{path.relative_to(root.parent)}:{node.lineno} imports {source}.{name}"
        for module, (path, tree) in trees.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for source, name in _imported(node, module)
        if (source, name) in shared
    ]


def test_the_walk_finds_session_fixtures_and_their_imports(tmp_path):
    # (the check below is not vacuous: it sees a session fixture imported into a conftest)
    root = tmp_path / "tests"
    (root / "giving").mkdir(parents=True)
    (root / "events").mkdir()
    for init in (root, root / "giving", root / "events"):
        (init / "__init__.py").write_text("")
    (root / "giving" / "conftest.py").write_text(
        "import pytest\n\n@pytest.fixture(scope='session')\ndef capture():\n    return 1\n\n"
        "@pytest.fixture\ndef relay(capture):\n    return capture\n"
    )
    (root / "events" / "conftest.py").write_text(
        "from tests.giving.conftest import capture, relay  # noqa: F401\n"
    )
    (root / "giving" / "test_x.py").write_text("from .conftest import relay  # noqa: F401\n")
    assert imported_shared_fixtures(root) == [
        "tests/events/conftest.py:1 imports tests.giving.conftest.capture"
    ]


def test_no_session_fixture_is_imported_into_another_module():
    assert imported_shared_fixtures() == []
