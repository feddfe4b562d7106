"""The curated knowledge base: articles, checks, the search index and the answer decision.

The store that loads, checks and reloads a base is :mod:`knowledge.store`; this file stays empty
so a module that needs one piece (the YAML loader for app.yaml, the article checks for
``kb check``) does not import the search and decision code with it.
"""
