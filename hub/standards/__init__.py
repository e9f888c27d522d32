"""Pure-Python reference implementations of the national standards in ``standards.md``.

The SQL that validates ledgers (``hub.validate``) and the great-expectations expectations are
tested against these functions.
"""
