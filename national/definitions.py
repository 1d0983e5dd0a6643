"""The ministry's code location (README "Beyond one machine").

    dagster dev -m national.definitions            (./run national-up does it, on PostgreSQL)

Provinces are the folders of ``PMIS_NATIONAL_ROOT`` holding a catalog
(``<root>/<province>/catalog/units.csv``), quarters the root's
``config.toml`` ``[partitions]``; both are read when the location loads.
The province deployment (``pmis_pipeline.definitions``) is unchanged.
"""

import warnings

import dagster as dg

warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

from national.assets import national_tables, province_quarter, quarter_province, quarters_def
from national.resources import NationalResource

#: One run per (quarter, province): ``dagster job backfill -j province_quarter_job --partitions 'P01|2009-Q1,...'``.
province_quarter_job = dg.define_asset_job(
    "province_quarter_job", selection=[province_quarter], partitions_def=quarter_province
)
national_tables_job = dg.define_asset_job("national_tables_job", selection=[national_tables], partitions_def=quarters_def)

defs = dg.Definitions(
    assets=[province_quarter, national_tables],
    jobs=[province_quarter_job, national_tables_job],
    resources={"national_root": NationalResource()},
    loggers={"console": dg.colored_console_logger.configured({"log_level": "WARNING", "name": "pmis_national"})},
    # a run is one step; runs, not steps, go in parallel (one process each, launched by the instance)
    executor=dg.in_process_executor,
)
