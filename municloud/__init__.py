"""municloud: the shared library and operator CLI of a shared municipal cloud (自治体クラウド).

One place for identifiers, 和暦, tax and premium rules, auth, audit, platform messages and
migration layouts; every service and stack imports from here.
"""

__version__ = "0.1.0"
