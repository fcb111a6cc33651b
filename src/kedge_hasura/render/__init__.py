"""Presentation: human text, JSON; the only package that imports rich."""
