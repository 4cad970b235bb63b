"""municloud Pulumi program: load and validate config, compose the consortium, export outputs."""

import os

import pulumi

from stacks.config import SERVICES, ConfigError, check_secrets_provider, built_services, from_pulumi
from stacks.consortium import Consortium, ConsortiumArgs

try:
    config = from_pulumi()
    check_secrets_provider(config, os.environ)
except ConfigError as exc:
    raise pulumi.RunError(f"invalid stack config: {exc}") from None

consortium = Consortium("consortium", ConsortiumArgs(config=config, built_services=built_services() - set(config.placeholder_services)))
primary = consortium.sites[config.primary_site]

pulumi.export("frontdoor_url", consortium.url)
pulumi.export("ca_cert_pem", consortium.ca.cert_pem)
pulumi.export("municipalities", {
    code: {
        "name": next(m.name for m in config.municipalities if m.lgcode == code),
        "endpoints": {svc: f"{consortium.url}/{code}/{svc}/" for svc in SERVICES},
        "token_public_key_pem": mun.token_key.public_key_pem,
    }
    for code, mun in primary.municipalities.items()
})
# Private signing keys only as secrets: `pulumi stack output token_private_keys --show-secrets`.
pulumi.export("token_private_keys", pulumi.Output.secret(
    {code: mun.token_key.private_key_pem for code, mun in primary.municipalities.items()}))
