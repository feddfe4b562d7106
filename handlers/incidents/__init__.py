"""Incidents: file, follow up and close reports (the router's handler is in ``handler.py``).

Empty on purpose: importing ``handlers.incidents.config`` (which every command's settings need)
must not import the handler and everything it uses.
"""
