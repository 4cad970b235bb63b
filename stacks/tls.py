"""How files (TLS material, secrets, rendered configuration) are handed to a container: as files,
never env (one place for the layout).

Each file is a plain dict whose ``path``, ``mode`` and ``uid`` are known when the program runs and
whose ``content`` may be an Output. The Container marks every content secret; the list itself stays
known, so a preview in which a content is not known yet (a re-rendered configuration, a new
member's key) still sees which paths change, and reports the change the way ``up`` applies it (an
in-place reload when the paths are the same), not as a replacement.
"""

from __future__ import annotations

import pulumi

from stacks.providers.pki import Certificate, CertificateAuthority


def tls_files(directory: str, ca: CertificateAuthority, cert: Certificate, uid: int) -> list[dict]:
    """``ca.crt``, ``server.crt`` (public, 0444) and ``server.key`` (0400, owned by ``uid``)."""
    return [plain_file(f"{directory}/ca.crt", ca.cert_pem, uid),
            plain_file(f"{directory}/server.crt", cert.cert_pem, uid),
            secret_file(f"{directory}/server.key", cert.key_pem, uid)]


def secret_file(path: str, content: pulumi.Input[str], uid: int, mode: int = 0o400) -> dict:
    return {"path": path, "content": pulumi.Output.secret(content), "mode": mode, "uid": uid}


def plain_file(path: str, content: pulumi.Input[str], uid: int = 0, mode: int = 0o444) -> dict:
    return {"path": path, "content": content, "mode": mode, "uid": uid}
