"""Capacity tests before go-live (同時接続利用者数): Locust runner, SLA gate, capacity search,
plots and report.

The Locust scenarios themselves live in ``loadtests/`` (user roles, shapes, gate hook); this
package holds what they share with the CLI and the tests: the stack's targets and SLA
(`targets`), the population split (`split`), the gate arithmetic (`sla`), the stage plans of the
shapes (`stages`), the runner and capacity search (`runner`, `capacity`), plots and the report.
"""
