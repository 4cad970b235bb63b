"""Pulumi dynamic providers for what no installable provider plugin offers here.

The pulumi-docker plugin cannot be obtained from the reachable registries (docs/decisions.md),
so Docker objects, generated secrets and the consortium PKI are dynamic resources built on the
Docker SDK for Python and ``cryptography``.

Why these live in the installed package: a dynamic provider instance is pickled (dill) into the
state and unpickled by ``pulumi-resource-pulumi-python``; a provider class defined in
``__main__`` or an inline program cannot be found again. Importing these modules creates no
resources and opens no connections; every Docker client is created inside the method using it.
"""
