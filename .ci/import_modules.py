"""Import every module of gentool_jax in a runtime-only environment (`pip install -e .`).

A module that needs an optional extra is listed with it; importing it must fail only for want
of that extra, and the CLI must name the pip install that brings it."""

import importlib
import pkgutil
import sys

import gentool_jax
from gentool_jax.extras import missing_dependency

NEEDS_EXTRA = {"gentool_jax.serve.app": "serve"}

failures = []
extras = []
modules = [info.name for info in pkgutil.walk_packages(gentool_jax.__path__, "gentool_jax.")]
for name in modules:
    try:
        importlib.import_module(name)
    except ImportError as error:
        hint = missing_dependency(error) or ""
        if name in NEEDS_EXTRA and f"[{NEEDS_EXTRA[name]}]" in hint:
            extras.append(name)
            continue
        failures.append(f"{name}: {type(error).__name__}: {error}")
    except Exception as error:
        failures.append(f"{name}: {type(error).__name__}: {error}")
for line in failures:
    print(f"import_modules: {line}", file=sys.stderr)
print(f"import_modules: {len(modules) - len(failures) - len(extras)} of {len(modules)} modules "
      f"import; {len(extras)} ask for their extra by name ({', '.join(extras)})")
sys.exit(1 if failures else 0)
