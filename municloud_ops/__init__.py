"""Operator tooling of municloud: the `municloud` CLI (stack, dr, backup, loadtest, conformance,
layout, calc...), the image builder and the one class that talks to ansible-runner.

Not in any image: the services import only the runtime kit (the ``municloud`` package), and nothing
there imports this package (tests/unit/test_package_boundaries.py).
"""
