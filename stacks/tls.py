"""How TLS material is handed to a container: as files, never env (one place for the layout)."""

from __future__ import annotations

import pulumi

from stacks.providers.pki import Certificate, CertificateAuthority


def tls_files(directory: str, ca: CertificateAuthority, cert: Certificate, uid: int) -> list[pulumi.Output]:
    """``ca.crt``, ``server.crt`` (public, 0444) and ``server.key`` (0400, owned by ``uid``)."""
    return [
        pulumi.Output.all(ca.cert_pem).apply(lambda a: {"path": f"{directory}/ca.crt", "content": a[0],
                                                        "mode": 0o444, "uid": uid}),
        pulumi.Output.all(cert.cert_pem).apply(lambda a: {"path": f"{directory}/server.crt", "content": a[0],
                                                          "mode": 0o444, "uid": uid}),
        pulumi.Output.all(cert.key_pem).apply(lambda a: {"path": f"{directory}/server.key", "content": a[0],
                                                         "mode": 0o400, "uid": uid}),
    ]


def secret_file(path: str, content: pulumi.Input[str], uid: int, mode: int = 0o400) -> pulumi.Output:
    return pulumi.Output.secret(pulumi.Output.from_input(content).apply(
        lambda c: {"path": path, "content": c, "mode": mode, "uid": uid}))


def plain_file(path: str, content: pulumi.Input[str], uid: int = 0, mode: int = 0o444) -> pulumi.Output:
    return pulumi.Output.from_input(content).apply(lambda c: {"path": path, "content": c, "mode": mode, "uid": uid})
