"""Deterministic seed data: synthetic households and residents of a small municipality."""

from municloud.seed.generator import Household, Resident, SeedData, SeedError, generate

__all__ = ["Household", "Resident", "SeedData", "SeedError", "generate"]
