"""The apps form layers, and imports only run down them.

    imagemanager  <-  audit  <-  accounts  <-  clusters  <-  jobs  <-  repositories  <-  core

A module may import its own app and any app to the left, never one to the right: a newcomer
can read the apps bottom-up, and no change to a lower app can break because of a higher one.
`imagemanager` knows no Django; the emulator imports nothing of the dashboard.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "imgdash"
LAYERS = ["imagemanager", "audit", "accounts", "clusters", "jobs", "repositories", "core"]


def imported_modules(path):
    """Every module `path` imports, at the top or inside a function, as a dotted name."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                yield ".".join([*base, node.module] if node.module else base)
            else:
                yield node.module


def modules_of(app):
    return sorted((PACKAGE / app).rglob("*.py"))


def imgdash_app(module):
    parts = module.split(".")
    return parts[1] if parts[0] == "imgdash" and len(parts) > 1 else None


@pytest.mark.parametrize("app", LAYERS)
def test_an_app_imports_only_the_apps_below_it(app):
    allowed = set(LAYERS[: LAYERS.index(app) + 1])
    upward = [
        f"{path.relative_to(PACKAGE.parent)} imports {module}"
        for path in modules_of(app)
        for module in imported_modules(path)
        if imgdash_app(module) in set(LAYERS) - allowed
    ]
    assert upward == [], "imports that run up the layers:\n" + "\n".join(upward)


@pytest.mark.parametrize("app", LAYERS[:-1])
def test_no_app_but_core_starts_the_emulator(app):
    found = [
        f"{path.relative_to(PACKAGE.parent)} imports {module}"
        for path in modules_of(app)
        for module in imported_modules(path)
        if imgdash_app(module) == "emulator"
    ]
    assert found == []


def test_the_emulator_imports_nothing_of_the_dashboard():
    found = [
        f"{path.relative_to(PACKAGE.parent)} imports {module}"
        for path in modules_of("emulator")
        for module in imported_modules(path)
        if imgdash_app(module) not in (None, "emulator")
    ]
    assert found == []


def test_the_image_manager_client_knows_no_django():
    found = [
        f"{path.relative_to(PACKAGE.parent)} imports {module}"
        for path in modules_of("imagemanager")
        for module in imported_modules(path)
        if module.split(".")[0] in ("django", "django_htmx", "template_partials")
    ]
    assert found == []


def test_every_app_has_its_layer():
    apps = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    assert apps == {*LAYERS, "emulator"}, "add a new app to LAYERS in its place"
