"""Disaster recovery (災害対策) operations: status, failover, failback, rehearsal.

Small modules, Patroni-style: ``inventory`` finds containers by label, ``postgres`` talks to one
server through ``docker exec``, ``steps`` holds the sentence-returning operational steps,
``failover`` / ``failback`` / ``rehearsal`` compose them, ``status`` reports, ``sla`` loads the
targets and writes the SLA report.
"""
