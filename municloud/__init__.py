"""municloud: the runtime kit of a shared municipal cloud (自治体クラウド).

One place for identifiers, 和暦, tax and premium rules, auth, audit, platform messages, migration
layouts and the service skeleton; every service imports from here, and it is the only Python
package the images carry. Operator tooling and the CLI are ``municloud_ops``; test support is under
tests/. Nothing here imports either (tests/unit/test_package_boundaries.py).
"""

__version__ = "0.1.0"
