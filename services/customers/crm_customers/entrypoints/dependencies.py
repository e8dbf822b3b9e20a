"""What views need from the app that bootstrap built."""
from __future__ import annotations

from flask import current_app


def new_uow():
    """A fresh unit of work, from the factory `bootstrap` put on the app."""
    return current_app.extensions["crm"]["uow_factory"]()
