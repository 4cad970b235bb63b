"""個人番号 never reaches the logs: the mask filter rewrites any 12-digit run."""

import logging

import pytest

from municloud.service.logging import MASK, MyNumberMaskFilter, mask_my_numbers

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("text,expected", [
    ("number 123456789018 refused", f"number {MASK} refused"),
    ("full-width １２３４５６７８９０１８", f"full-width {MASK}"),
    ("atena 053031000000001 ok", "atena 053031000000001 ok"),  # 15 digits: not a 個人番号
    ("code 12345678901 ok", "code 12345678901 ok"),  # 11 digits: 住民票コード
])
def test_mask(text, expected):
    assert mask_my_numbers(text) == expected


def test_filter_masks_args_and_exceptions(caplog):
    logger = logging.getLogger("test.mask")
    logger.addFilter(MyNumberMaskFilter())
    with caplog.at_level(logging.INFO, logger="test.mask"):
        logger.info("lookup %s", "123456789018")
        try:
            raise ValueError("bad 123456789018")
        except ValueError:
            logger.exception("failed")
    text = caplog.text
    assert "123456789018" not in text
    assert MASK in text
    assert "lookup" in text and "failed" in text
