"""The composition root: the one server and the CLI; the only code that wires handlers in."""
