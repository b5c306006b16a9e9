"""``python -m dso_analytics`` runs the CLI."""

from dso_analytics.cli import main

raise SystemExit(main())
