"""The one way YAML is parsed: safe, with libyaml's C loader when it is installed.

``yaml.safe_load`` uses the pure-Python loader even when libyaml is present (about 10x slower on
app.yaml and the articles); ``CSafeLoader`` builds the same plain Python data (no tags, no objects).
"""

from __future__ import annotations

from typing import Any

import yaml

#: libyaml's safe loader when PyYAML was built with it, else the pure-Python one.
SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

YAMLError = yaml.YAMLError


def safe_load(text: str) -> Any:
    """Parse one YAML document into plain Python data (the C loader when available)."""
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - a safe loader, C or Python
