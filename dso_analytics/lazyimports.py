"""Import-time costs of third-party packages, deferred until they are needed.

``jsonschema`` (imported by ``nbformat``, hence papermill and nbconvert, and by
``altair``, hence Great Expectations) imports ``rfc3987_syntax`` when it is
installed (``jsonschema[format-nongpl]``, pulled in by ``jupyterlab``), and that
module builds an Earley parser of the RFC 3987 grammar at import: 1 to 5 seconds
of CPU in every process that imports ``jsonschema``, for the ``iri`` and
``iri-reference`` format checks, which nothing in a report run uses.

:func:`defer_iri_grammar` puts a stand-in for ``rfc3987_syntax`` in
``sys.modules`` whose functions import the real grammar on their first call, so
those format checks behave exactly as before, only the cost moves to the first
use (never, in a report run).

Great Expectations imports ``scipy.stats`` at import time (1-2 s of CPU: it
pulls in ``scipy.optimize``, ``scipy.spatial``, ``scipy.linalg``...) for three
expectations we never run (Kolmogorov-Smirnov p-values and KL divergence), and
only calls it inside those expectations.  :func:`defer_scipy_stats` registers
``scipy.stats`` with :class:`importlib.util.LazyLoader`: the module object exists
at once and runs its real import on its first attribute access, so any code
that does use it gets the genuine module, only later.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

_IRI = "rfc3987_syntax"
_IRI_IMPL = "rfc3987_syntax.syntax_helpers"


def _iri_impl() -> Any:
    return importlib.import_module(_IRI_IMPL)


def _is_valid_syntax(term: str, value: str) -> bool:
    return bool(_iri_impl().is_valid_syntax(term, value))


def _parse(term: str, value: str) -> Any:
    return _iri_impl().parse(term, value)


def _module_getattr(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(_iri_impl(), name)


def defer_iri_grammar() -> bool:
    """Make ``import rfc3987_syntax`` cheap in this process (idempotent).

    Returns
    -------
    bool
        True when the stand-in is (now) in place; False when the package is not
        installed or was already imported for real.
    """
    current = sys.modules.get(_IRI)
    if current is not None:
        return getattr(current, "_dso_deferred", False)
    try:
        spec = importlib.util.find_spec(_IRI)
    except (ImportError, ValueError):
        return False
    if spec is None or not spec.submodule_search_locations:
        return False
    stub = types.ModuleType(_IRI, "Stand-in: the RFC 3987 grammar is built on first use.")
    stub.__path__ = list(spec.submodule_search_locations)  # its submodules import normally
    stub.__spec__ = spec
    stub.__file__ = spec.origin
    stub._dso_deferred = True  # type: ignore[attr-defined]
    stub.is_valid_syntax = _is_valid_syntax  # type: ignore[attr-defined]
    stub.parse = _parse  # type: ignore[attr-defined]
    stub.__getattr__ = _module_getattr  # type: ignore[method-assign]
    sys.modules[_IRI] = stub
    return True


_SCIPY_STATS = "scipy.stats"


def defer_scipy_stats() -> bool:
    """Make ``import scipy.stats`` cheap in this process until it is used (idempotent).

    Returns
    -------
    bool
        True when ``scipy.stats`` is (now) a lazily loaded module; False when
        SciPy is not installed or ``scipy.stats`` was already imported for real.
    """
    current = sys.modules.get(_SCIPY_STATS)
    if current is not None:
        # LazyLoader marks a module not yet loaded by its class (private, hence the guard)
        lazy = getattr(importlib.util, "_LazyModule", None)
        return lazy is not None and isinstance(current, lazy)
    try:
        spec = importlib.util.find_spec(_SCIPY_STATS)  # imports the light ``scipy`` package
    except (ImportError, ValueError):
        return False
    if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
        return False
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[_SCIPY_STATS] = module
    spec.loader.exec_module(module)
    # ``from scipy import stats`` then finds the attribute and never asks the import
    # system, whose look-up reads ``module.__spec__``: any attribute access loads it
    setattr(sys.modules["scipy"], "stats", module)  # noqa: B010
    return True
