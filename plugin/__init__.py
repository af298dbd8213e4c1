"""Outlook Calendar for the LMS: the LMS-facing side (entry point ``plugin:create_app``)."""
from __future__ import annotations

from plugin.app import create_app

__all__ = ["create_app"]
