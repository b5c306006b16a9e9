"""dso-analytics: renewal leverage for DSOs' managed-IT agreements.

The public API is imported lazily so that ``import dso_analytics`` (and the
CLI's ``--help``) stays fast and never imports Great Expectations, papermill
or plotly.

>>> import dso_analytics
>>> sorted(dso_analytics.__all__)[:3]
['DsoDataset', 'DsoError', 'Params']
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "read_dso": "dso_analytics.ingest",
    "validate_dso": "dso_analytics.validation",
    "validate_dataset": "dso_analytics.validation",
    "load_dso": "dso_analytics.validation",
    "DsoDataset": "dso_analytics.dataset",
    "DsoError": "dso_analytics.errors",
    "ValidationFailed": "dso_analytics.errors",
    "Params": "dso_analytics.standards",
    "read_standard": "dso_analytics.standards",
    "compute_metrics": "dso_analytics.metrics",
    "render_reports": "dso_analytics.pipeline",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dso_analytics' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
