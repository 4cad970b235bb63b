"""Test support, imported as ``support`` (pyproject's pytest ``pythonpath``): live stacks for the
live tier and the DR lab. Never shipped, never imported by the runtime kit or operator tooling."""
