"""Dagster asset checks and Great Expectations suites."""
