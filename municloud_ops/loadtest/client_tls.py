"""TLS of the load generator's users: one client context per Locust process that trusts the
consortium CA only.

geventhttpclient builds one context per user, calling the factory as
``factory(cafile=<its public bundle>)``. A factory without that keyword made it fall back to
loading the whole public bundle (~150 roots, ~15 ms of CPU) into every user's context, on the
one gevent loop: with 200 users starting, the generator was blocked for seconds (the first
seconds of a run served almost nothing, measured) and the users trusted public roots besides.
The bundle it offers is ignored on purpose; the context is built once and shared (a client
context holds no per-connection state)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=4)
def consortium_tls_factory(ca_file: str):
    """An ``ssl_context_factory`` for FastHttpUser that returns the one shared context."""
    import gevent.ssl

    context = gevent.ssl.create_default_context(cafile=ca_file)

    def factory(cafile: str | None = None, **_ignored) -> gevent.ssl.SSLContext:
        return context

    return factory
