"""Printable certificates: Jinja2 templates (autoescaped) shipped inside each service package."""

from __future__ import annotations

from functools import lru_cache

import jinja2


@lru_cache(maxsize=None)
def environment(package: str) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(package: str, template: str, **context) -> str:
    return environment(package).get_template(template).render(**context)
