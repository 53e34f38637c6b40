"""Requests, complaints and suggestions: taken in a short form on any channel, kept as tickets
with a code (``SR-2026-000123``), worked by staff in the console, every change told to the
citizen."""
