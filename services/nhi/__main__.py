"""`python -m services.nhi`: serve with uvicorn (settings from the environment)."""

from municloud.service.app import serve

if __name__ == "__main__":
    serve("services.nhi.main:create_app")
