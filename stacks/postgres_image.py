"""The PostgreSQL image's contract (images/postgres, docs/postgres-image.md), written once.

Who starts the image - the stack (stacks/postgres_cluster.py, stacks/backup_repository.py), the
DR lab and the test container helper (tests/support) - takes the user id, the paths and the
``MC_PG_*`` / ``MC_PGBACKREST_*`` environment from here, so the image's entrypoint and its callers
cannot drift apart. It lives beside the program, not in the ``municloud`` package: the service
images carry that package, and a deploy-side contract changing must not rebuild them.
"""

from __future__ import annotations

from collections.abc import Sequence

POSTGRES_UID = 999
"""user and group id of ``postgres`` in the image (fixed): owner of every file handed to it"""
DATA_DIR = "/var/lib/postgresql/data"
"""the data directory (mount the cluster's volume here)"""
SECRETS_DIR = "/run/secrets/postgres"
"""``<role>.password`` files: postgres, replicator, one per database"""
TLS_DIR = "/run/secrets/postgres-tls"
"""``ca.crt``, ``server.crt``, ``server.key`` (the certificate's CN is the container's host name)"""
CONFIG_DIR = "/etc/municloud/postgres"
"""``postgresql.conf`` and ``pg_hba.conf`` rendered by roles/postgres"""
PGBACKREST_SECRETS_DIR = "/run/secrets/pgbackrest"
"""repository mode: the cipher include file"""
PGBACKREST_CONFIG_DIR = "/etc/municloud/pgbackrest"
"""repository mode: ``pgbackrest.conf`` and ``schedule.conf`` rendered by roles/pgbackrest"""
TMPFS = {"/tmp": "rw,noexec,nosuid,size=64m"}
"""the image runs with a read-write /tmp of its own only"""

MODES = ("primary", "standby", "repo")


def password_file(role: str) -> str:
    return f"{SECRETS_DIR}/{role}.password"


def quoted_standby_names(*names: str) -> str:
    """``synchronous_standby_names`` as the entrypoint wants it (each name double-quoted)."""
    return ",".join(f'"{n}"' for n in names)


def server_env(mode: str, *, databases: Sequence[str], allowed_networks: Sequence[str], application_name: str,
               replication_networks: Sequence[str] | None = None, peer_host: str | None = None,
               synchronous: bool = False, stanza: str | None = None,
               repo_host: str | None = None) -> dict[str, str]:
    """Environment of a database server (``primary`` or ``standby``).

    ``replication_networks`` (None: the variable is left out) may stream from it; ``peer_host`` is
    the other site's server (a standby's source; a primary's standby, then ``synchronous`` names it
    in ``synchronous_standby_names``); ``stanza`` + ``repo_host`` turn on WAL archiving to the
    pgBackRest repository.
    """
    if mode not in ("primary", "standby"):
        raise ValueError(f"MC_PG_MODE: {mode!r} is not a server mode (primary, standby)")
    if mode == "standby" and not peer_host:
        raise ValueError("MC_PG_PEER_HOST: a standby needs the server it streams from")
    env = {"MC_PG_MODE": mode, "MC_PG_DATABASES": ",".join(databases),
           "MC_PG_ALLOWED_NETWORKS": ",".join(allowed_networks), "MC_PG_APPLICATION_NAME": application_name}
    if replication_networks is not None:
        env["MC_PG_REPLICATION_NETWORKS"] = ",".join(replication_networks)
    if peer_host:
        env |= {"MC_PG_PEER_HOST": peer_host,
                "MC_PG_SYNCHRONOUS_STANDBY_NAMES": quoted_standby_names(peer_host) if synchronous else ""}
    if stanza:
        if not repo_host:
            raise ValueError("MC_PGBACKREST_REPO_HOST: WAL archiving needs the repository host")
        env |= {"MC_PGBACKREST_STANZA": stanza, "MC_PGBACKREST_REPO_HOST": repo_host}
    return env


def repo_env(stanzas: dict[str, Sequence[str]] | None = None, retention_full: int | None = None,
             port: int = 5432) -> dict[str, str]:
    """Environment of the pgBackRest repository (``repo`` mode). The stack renders stanzas and
    retention with roles/pgbackrest instead and passes neither; a repository started without the
    rendered files (the DR lab) passes them here."""
    env = {"MC_PG_MODE": "repo"}
    if stanzas:
        env["MC_PGBACKREST_STANZAS"] = ",".join(
            f"{name}=" + "+".join(f"{h}:{port}" for h in hosts) for name, hosts in stanzas.items())
    if retention_full is not None:
        env["MC_PGBACKREST_RETENTION_FULL"] = str(retention_full)
    return env
