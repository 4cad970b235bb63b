"""Printable 住民票の写し (HTML, Japanese, A4)."""

from __future__ import annotations

from municloud.service.render import render
from services.residents_registry.models import ResidentCertificate


def render_certificate_html(certificate: ResidentCertificate) -> str:
    return render("services.residents_registry", "resident_certificate.html", c=certificate)
