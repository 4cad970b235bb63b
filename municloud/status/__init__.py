"""The consortium's status page (サービス稼働状況): what runs, what is down, how available each unit
has been, how far the DR site lags, how old the last good backup is.

- ``facts``: what a prober measures on a site's engine (container state and health, PostgreSQL
  replication, pgBackRest's repository) and its Prometheus exposition; the CLI's
  ``municloud stack status`` measures the same facts the same way.
- ``availability``: the arithmetic of availability over a window.
- ``page``: the HTML (server-side, no script, no external resource).
- ``prober`` and ``web``: the two processes of the stack's StatusPage component
  (stacks/status_page.py).

Standard library only: it runs from the python image beside the site supervisor's code.
"""
