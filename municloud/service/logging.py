"""Logging for services: structured one-line records, request bodies never logged, and a
filter that masks any run of 12 digits (a possible 個人番号) as defence in depth."""

from __future__ import annotations

import logging
import re

_TWELVE_DIGITS = re.compile(r"(?<![0-9０-９])[0-9０-９]{12}(?![0-9０-９])")
MASK = "************"


def mask_my_numbers(text: str) -> str:
    return _TWELVE_DIGITS.sub(MASK, text)


class MyNumberMaskFilter(logging.Filter):
    """Rewrites every record's message so no 12-digit run survives."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_my_numbers(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = mask_my_numbers(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def configure_logging(level: str = "INFO") -> None:
    """Install the mask filter on the root handlers and uvicorn's loggers."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        root.addHandler(handler)
    root.setLevel(level)
    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access", "fastapi", "asyncpg"):
        logger = logging.getLogger(name)
        for handler in logger.handlers:
            if not any(isinstance(f, MyNumberMaskFilter) for f in handler.filters):
                handler.addFilter(MyNumberMaskFilter())
        if not any(isinstance(f, MyNumberMaskFilter) for f in logger.filters):
            logger.addFilter(MyNumberMaskFilter())
