"""Alerts: compose, approve, send, acknowledge (the router's handler is in ``handler.py``).

Empty on purpose: importing ``handlers.alerts.config`` (which every command's settings need)
must not import the handler and everything it uses.
"""
