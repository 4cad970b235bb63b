"""`python -m services.tax`: serve with uvicorn (settings from the environment)."""

from municloud.service.app import serve

if __name__ == "__main__":
    serve("services.tax.main:create_app")
