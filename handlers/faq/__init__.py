"""Answers from the curated knowledge base (the router's handler is in ``handler.py``).

Empty on purpose: ``electionbot ask`` imports the answering modules without the handler's
database and recording side.
"""
