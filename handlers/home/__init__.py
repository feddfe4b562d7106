"""A person's home and the first-conversation welcome (the handler is in ``handler.py``)."""
