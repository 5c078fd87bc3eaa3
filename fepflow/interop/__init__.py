"""Formats other tools write and read: networks planned by openfe (gufe's JSON) and results in the
shape of ``openfe gather``'s TSV (cinnabar's CSV lives in :mod:`fepflow.analysis.network_export`)."""
