"""Platform adapters: the only code that knows Slack, Teams or the web chat wire formats."""
