"""`python -m services.platform_hub`: run the hub with uvicorn (uvloop + httptools)."""

import logging
import os

import uvicorn


def main() -> None:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    uvicorn.run(
        "services.platform_hub.app:create_app", factory=True,
        host=os.environ.get("BIND_HOST", "0.0.0.0"), port=int(os.environ.get("PORT", "8000")),
        # Several worker processes each run a delivery worker; SKIP LOCKED keeps them apart.
        workers=int(os.environ.get("WEB_CONCURRENCY", "1")),
        loop="uvloop", http="httptools", access_log=os.environ.get("ACCESS_LOG", "0") == "1",
    )


if __name__ == "__main__":
    main()
