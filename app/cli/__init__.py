"""The ``electionbot`` command: core commands here, domain groups from each handler's cli.py."""
