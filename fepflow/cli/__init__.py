"""The ``fepflow`` command: ``app`` (the command and its registry), ``hub`` (commands that talk to a
hub), ``admin`` (administration straight on the database) and ``dev`` (the embedded stack and the
demo). Each subcommand is a thin layer over the library."""
