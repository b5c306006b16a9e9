"""Helpers shared by the test suite (builders, factories, paths).

``tests`` is a package, so pytest puts the repository root on ``sys.path`` (its
``prepend`` import mode) and test modules import these as ``tests.support.x``.
"""
