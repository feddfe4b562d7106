"""axe-core in the browser tests: inject the vendored axe.min.js and demand no WCAG 2.1 AA violation.

The copy is tests/vendor/axe-core/axe.min.js, straight from the npm registry (version and
licence in its VERSION file; refresh with tests/vendor/update-axe.sh), so a fresh clone needs no
network. Every browser test calls :func:`assert_accessible` on each page state it reaches.
"""

from __future__ import annotations

import json
from typing import Any

from tests.support import ROOT

AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")

_RUN = """
const [tags, done] = [arguments[0], arguments[arguments.length - 1]];
axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]})
  .then((r) => done({violations: r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => ({target: n.target, summary: n.failureSummary}))}))}))
  .catch((e) => done({error: String(e)}));
"""


def violations(browser: Any) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now; the violations of WCAG 2.0/2.1 A and AA rules."""
    if not browser.execute_script("return typeof window.axe === 'object'"):
        browser.execute_script(AXE.read_text(encoding="utf-8"))
    browser.set_script_timeout(60)
    result = browser.execute_async_script(_RUN, list(TAGS))
    if "error" in result:
        raise AssertionError(f"axe-core failed to run: {result['error']}")
    return list(result["violations"])


def assert_accessible(browser: Any, state: str) -> None:
    """Fail with each violation's rule id, help text and element targets when axe finds any."""
    found = violations(browser)
    if found:
        lines = [f"axe-core: {len(found)} WCAG 2.1 AA violation(s) in state {state!r}:"]
        for v in found:
            lines.append(f"- {v['id']} ({v['impact']}): {v['help']}")
            lines += [f"    {json.dumps(n['target'])}: {n['summary']}" for n in v["nodes"][:8]]
        raise AssertionError("\n".join(lines))
