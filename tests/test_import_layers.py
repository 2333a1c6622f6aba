"""Imports run one way: the modules that once imported each other no longer do, and each loads
first in a fresh interpreter (a circle shows up there as a partly initialised module)."""
import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# (module, modules it must never import, not even inside a function)
FORBIDDEN_IMPORTS = [
    ("csms.ocpp.outbound", {"csms.tasks"}),
    ("transactions.api.operations", {"stations.api.views", "stations.api"}),
    ("csms.api.command_responses", {"stations", "transactions", "devicemodel", "smartcharging"}),
]

# Each loaded first, alone, after django.setup(): the lower module of each former circle and the
# upper one, so neither relies on the other having been imported before it.
LOAD_FIRST = [
    "csms.ocpp.outbound", "csms.tasks", "transactions.api.operations", "stations.api.views",
    "csms.api.command_responses",
]


def imported_modules(module):
    """Every module named by an import statement of `module`'s source, at any depth."""
    path = ROOT / (module.replace(".", "/") + ".py")
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module.rsplit(".", 1)[0]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the module's package
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _is_within(name, forbidden):
    return name == forbidden or name.startswith(forbidden + ".")


@pytest.mark.parametrize(("module", "forbidden"), FORBIDDEN_IMPORTS,
                         ids=[module for module, _ in FORBIDDEN_IMPORTS])
def test_module_does_not_import_upwards(module, forbidden):
    names = imported_modules(module)
    assert names, f"no imports found in {module}: the check reads the wrong file"
    offending = sorted(name for name in names
                       if any(_is_within(name, target) for target in forbidden))
    assert offending == [], f"{module} imports {offending}"


def test_the_checker_sees_function_level_and_relative_imports():
    # The outbound module of old imported csms.tasks inside a function; the checker must see such.
    names = imported_modules("csms.ocpp.outbound")
    assert "csms.ocpp.bridge" in names  # `from . import bridge`
    assert "django.db.transaction" in names


@pytest.mark.parametrize("module", LOAD_FIRST)
def test_module_loads_first_in_a_fresh_interpreter(module):
    # Django's app registry first (models need it), then this module before any view or URLconf.
    script = (
        "import os, django\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'csms.settings')\n"
        "django.setup()\n"
        f"import {module}\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=dict(os.environ),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
