"""electionbot: the neutral core, configuration and platform adapters."""
