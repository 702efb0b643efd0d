"""Fixes that ``lightning-advisor check --fix`` applies: exact source edits.

Never imported by the flake8 plugin.
"""
