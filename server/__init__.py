"""Practica: a self-hosted community server for communities of practice."""

__version__ = "0.1.0"
