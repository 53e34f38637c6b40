"""Custom actions run by the Rasa action server (``rasa run actions``).

Actions own knowledge lookups: every answer comes from the knowledge base
(:mod:`bot.knowledge.articles`), never from strings in this package.
"""
