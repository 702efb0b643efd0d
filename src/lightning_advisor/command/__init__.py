"""The ``lightning-advisor check`` command: the static checks over files, with fixes and report formats."""
