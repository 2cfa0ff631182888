"""The platform's web application: ``create_app`` (FastAPI), run by ``signaux-faibles serve``."""

from .app import create_app

__all__ = ["create_app"]
