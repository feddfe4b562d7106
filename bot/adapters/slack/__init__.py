"""Slack: the Bolt app, translate (payload -> message), render (Reply -> Block Kit), send, OAuth."""
