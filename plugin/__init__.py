"""Outlook Calendar for the LMS: the LMS-facing side (entry point ``plugin:create_app``).

The app is imported on first call, not with the package: ``outlook-sync serve`` must set up the
metrics folder before anything imports ``prometheus_client`` (see :mod:`plugin.cli.main`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from bridge.config import Settings
    from bridge.db import Database

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, database: Database | None = None) -> Flask:
    """Build the app: :func:`plugin.app.create_app`."""
    from plugin.app import create_app as build

    return build(settings, database)
