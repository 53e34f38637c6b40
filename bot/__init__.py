"""FastAPI gateway of the assistant: channels in, Rasa for language, knowledge for answers.

Kept import-light on purpose: the action server (Python 3.10) imports ``bot.knowledge.articles``.
"""

__version__ = "0.1.0"
