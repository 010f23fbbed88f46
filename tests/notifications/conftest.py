"""Fixtures for notifications: the real SMTP server on loopback is ``smtp_server`` in
``tests/conftest.py`` (shared with the end-to-end reminder tests)."""
