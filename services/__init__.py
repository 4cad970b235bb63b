"""Deployable municloud business services (one package each)."""
