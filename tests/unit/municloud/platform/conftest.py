import pytest

from municloud.platform import KeyRegistry, SigningKey


@pytest.fixture
def keys():
    """Signing keys of residents_registry@053031 and tax@053031, and a registry of both."""
    residents = SigningKey.generate("053031-residents_registry-1")
    tax = SigningKey.generate("053031-tax-1")
    registry = KeyRegistry()
    registry.add_signing_key(residents, lgcode="053031", unit="residents_registry")
    registry.add_signing_key(tax, lgcode="053031", unit="tax")
    return residents, tax, registry
