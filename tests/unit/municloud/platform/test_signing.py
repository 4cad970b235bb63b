"""Ed25519 signatures over exclusive C14N; keys belong to one (lgcode, unit)."""

import pytest
from lxml import etree

from municloud.platform import (
    KeyRegistry, SignatureError, SigningKey, build_message, encode_message, parse_message, sign_message,
)
from municloud.platform.samples import sample_move_notice

pytestmark = pytest.mark.unit


def _notice(sender_unit="residents_registry", lgcode="053031"):
    return build_message(sample_move_notice(lgcode), sender_unit=sender_unit, sender_lgcode=lgcode,
                         receiver_unit="platform_hub", receiver_lgcode=lgcode)


def test_signed_message_verifies(keys):
    residents, _, registry = keys
    message = parse_message(sign_message(_notice(), residents), registry=registry)
    assert message.key_id == residents.key_id and len(message.signature) == 64


def test_tampered_body_fails(keys):
    residents, _, registry = keys
    data = sign_message(_notice(), residents).replace("太郎1".encode(), "次郎1".encode())
    with pytest.raises(SignatureError, match="does not match"):
        parse_message(data, registry=registry)


def test_forged_signature_by_unknown_key_fails(keys):
    _, _, registry = keys
    forger = SigningKey.generate("053031-residents_registry-1")  # same id, different key
    with pytest.raises(SignatureError, match="does not match"):
        parse_message(sign_message(_notice(), forger), registry=registry)


def test_key_of_another_unit_cannot_sign_as_residents_registry(keys):
    _, tax, registry = keys
    with pytest.raises(SignatureError, match="belongs to tax@053031"):
        parse_message(sign_message(_notice(), tax), registry=registry)


def test_key_of_another_municipality_is_refused(keys):
    residents, _, registry = keys
    with pytest.raises(SignatureError, match="not to sender residents_registry@053279"):
        parse_message(sign_message(_notice(lgcode="053279"), residents), registry=registry)


def test_unsigned_message_is_refused_when_a_registry_is_given(keys):
    _, _, registry = keys
    with pytest.raises(SignatureError, match="not signed"):
        parse_message(encode_message(_notice()), registry=registry)


def test_whitespace_in_signed_content_matters_but_attribute_order_does_not(keys):
    residents, _, registry = keys
    signed = sign_message(_notice(), residents)
    root = etree.fromstring(signed)
    sig = root[-1]
    reordered = etree.SubElement(root, sig.tag, algorithm="Ed25519", keyId=sig.get("keyId"))
    reordered.text = sig.text
    root.remove(sig)
    assert parse_message(etree.tostring(root, encoding="UTF-8"), registry=registry)


def test_registry_file_round_trip(tmp_path, keys):
    residents, _, registry = keys
    import yaml

    path = tmp_path / "keys.yaml"
    path.write_text(yaml.safe_dump(registry.to_mapping()))
    loaded = KeyRegistry.load(path)
    assert parse_message(sign_message(_notice(), residents), registry=loaded)


def test_private_key_file_round_trip(tmp_path, keys):
    residents, _, registry = keys
    path = tmp_path / f"{residents.key_id}.key"
    path.write_bytes(residents.private_pem())
    loaded = SigningKey.load(path)
    assert loaded.key_id == residents.key_id
    assert parse_message(sign_message(_notice(), loaded), registry=registry)


def test_wildcard_lgcode_only_for_the_hub():
    registry = KeyRegistry()
    key = SigningKey.generate("hub-1")
    registry.add_signing_key(key, lgcode="*", unit="platform_hub")
    with pytest.raises(ValueError, match="only allowed for unit platform_hub"):
        registry.add_signing_key(key, lgcode="*", unit="tax")


def test_registry_yaml_quotes_lgcodes_for_yaml_1_2_readers() -> None:
    """053279 unquoted is a number to a YAML 1.2 reader (and 053031 an octal to YAML 1.1)."""
    import yaml

    from municloud.platform import KeyRegistry, SigningKey

    registry = KeyRegistry()
    registry.add_signing_key(SigningKey.generate("k-053279"), lgcode="053279", unit="tax")
    text = registry.to_yaml()
    assert 'lgcode: "053279"' in text
    assert yaml.safe_load(text)["keys"][0]["lgcode"] == "053279"
    assert "lgcode: 053279" in yaml.safe_dump(registry.to_mapping())  # the twin: plain dump
