"""Dagster assets of the PMIS pipeline: thin wrappers that wire, name,
partition and describe the domain functions of ``pmis_pipeline``."""
