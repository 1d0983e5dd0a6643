"""The Dagster floor (issue 11): a code location of two empty partitioned assets.

``bench/province_bench.py`` materializes it with the same command and a fresh
instance, to measure what Dagster itself costs before and around the steps.
"""

import dagster as dg

quarters = dg.StaticPartitionsDefinition(["2009-Q1"])


@dg.asset(partitions_def=quarters)
def first() -> None:
    return None


@dg.asset(partitions_def=quarters, deps=[first])
def second() -> None:
    return None


defs = dg.Definitions(assets=[first, second], executor=dg.in_process_executor)
