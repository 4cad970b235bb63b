"""A PostgreSQL cluster's configuration, rendered by roles/postgres (tuning and pg_hba.conf).

The files go to ``/etc/municloud/postgres`` in the container; the image's entrypoint includes
``postgresql.conf`` last and points ``hba_file`` at ``pg_hba.conf`` (docs/postgres-image.md). A
change of either is applied in place: the Container provider copies the files in and runs
``RELOAD``, which reloads the server, fails on a rejected file and asks for a restart (exit 75)
only when a changed setting needs one (``pending_restart``).
"""

from __future__ import annotations

import pulumi

from stacks.postgres_image import CONFIG_DIR, POSTGRES_UID
from stacks.providers.rendered import RenderedConfig
from stacks.tls import plain_file


_CHECK = ("SELECT (SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL)"
          " + (SELECT count(*) FROM pg_file_settings WHERE error IS NOT NULL"
          " AND error <> 'setting could not be applied'),"  # that one means: needs a restart
          " (SELECT count(*) FROM pg_settings WHERE pending_restart)")
#: reload; exit 1 naming the problem if PostgreSQL rejected a file, 75 if a restart is needed
RELOAD = ["/bin/bash", "-c",
          'pg_ctl reload -s -D "$PGDATA" && sleep 1 && '
          f'r=$(psql -X -At -F " " -h /var/run/postgresql -U postgres -d postgres -c "{_CHECK}") && '
          'set -- $r && { [ "$1" = 0 ] || { echo "rejected lines in the configuration: $1"; exit 1; }; } && '
          '{ [ "$2" = 0 ] || { echo "restart needed for $2 setting(s)"; exit 75; }; }']


def memory_budget_mb(population: int) -> int:
    """Memory budget of a municipality's cluster: 256 MB plus 20 MB per thousand residents, at most 2 GB."""
    return min(2048, 256 + population // 50)


def postgres_config(resource_name: str, *, instance: str, databases: list[str], allowed_networks: list[str],
                    replication_networks: list[str], memory_mb: int,
                    opts: pulumi.ResourceOptions | None = None) -> tuple[RenderedConfig, list[dict]]:
    """The rendered configuration and the two files for the Container (``files``)."""
    config = RenderedConfig(resource_name, role="postgres", instance=instance, output_var="postgres_output_dir",
                            variables={"postgres_databases": list(databases),
                                       "postgres_allowed_networks": list(allowed_networks),
                                       "postgres_replication_networks": list(replication_networks),
                                       "postgres_memory_mb": memory_mb}, opts=opts)
    files = [plain_file(f"{CONFIG_DIR}/{name}", config.files.apply(lambda f, n=name: f[n]), POSTGRES_UID)
             for name in ("postgresql.conf", "pg_hba.conf")]
    return config, files
