"""`python -m services.residents_registry`: serve with uvicorn (settings from the environment)."""

from municloud.service.app import serve

if __name__ == "__main__":
    serve("services.residents_registry.main:create_app")
