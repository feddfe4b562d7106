"""Microsoft Teams: the endpoint, auth, admission, translate / render (Adaptive Cards), send."""
