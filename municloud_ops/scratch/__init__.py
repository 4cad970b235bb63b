"""Throwaway servers from the project's own images (PostgreSQL with TLS and its secrets as
files), for local load runs, benchmarks and integration tests; built on testcontainers."""
