"""`python -m services.platform_hub`: run the hub with the kit's server (uvloop + httptools).

Several worker processes (WEB_CONCURRENCY) each run a delivery worker; SKIP LOCKED keeps them apart."""

from municloud.service.app import serve


def main() -> None:
    serve("services.platform_hub.app:create_app")


if __name__ == "__main__":
    main()
