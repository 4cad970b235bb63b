"""Helpers for tests that need real containers (throwaway, labelled, context-managed)."""
