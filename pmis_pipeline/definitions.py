"""The Dagster code location: everything assembled in one place.

``dagster dev`` (see workspace.yaml) and ``dagster asset materialize -m
pmis_pipeline.definitions`` load this module.
"""

import warnings

import dagster as dg

# The beta/preview APIs used on purpose (observable sources, partitioned checks)
# are pinned with dagster <1.14; their warnings only clutter the clerk's terminal.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

from assets.documents import DOCUMENTS
from assets.inputs import INPUTS
from assets.publish import analyst_warehouse
from assets.reports import REPORTS, unit_templates
from assets.resources import PmisResource
from assets.sensors import quarters_sensor
from assets.warehouse import quarter_warehouse

ALL_ASSETS = [*INPUTS, quarter_warehouse, *DOCUMENTS, *REPORTS, analyst_warehouse, unit_templates]

defs = dg.Definitions(
    assets=ALL_ASSETS,
    sensors=[quarters_sensor],
    resources={"pmis": PmisResource()},
    # Runs print warnings and errors to the terminal; every event is in the UI.
    loggers={"console": dg.colored_console_logger.configured({"log_level": "WARNING", "name": "pmis"})},
    # Steps of a run execute one after another in one process; every step that
    # touches the build database is in the pool "pmis_writer" (limit 1).
    executor=dg.in_process_executor,
)
