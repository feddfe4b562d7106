"""The local web chat: endpoint, sign-in (accounts, OIDC, sessions) and the page in static/."""
