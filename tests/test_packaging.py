"""What production installs: the Stripe stand-in (localstripe) stays out of it."""

import tomllib
from pathlib import Path

from packaging.requirements import Requirement

PYPROJECT = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())


def _names(requirements):
    return {Requirement(r).name.lower() for r in requirements}


def test_localstripe_is_not_a_runtime_dependency():
    # `uv sync --frozen --no-default-groups` installs these and nothing else.
    project = PYPROJECT["project"]
    assert "localstripe" not in _names(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        assert "localstripe" not in _names(extra)


def test_localstripe_is_pinned_below_a_version_in_the_demo_group():
    (requirement,) = [
        Requirement(r)
        for r in PYPROJECT["dependency-groups"]["demo"]
        if Requirement(r).name.lower() == "localstripe"
    ]
    # The stand-in extends localstripe's internals (standin/): a new minor may break it.
    assert any(spec.operator in {"<", "<=", "==", "~="} for spec in requirement.specifier)
    assert "localstripe" not in _names(PYPROJECT["dependency-groups"]["dev"])
