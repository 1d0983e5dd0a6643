"""The Department's inputs as observable source assets.

Each input has a data version (see :mod:`pmis_pipeline.inputs`); a new version
marks exactly the quarters that read it as stale. The ``quarters_sensor``
observes them every 30 seconds (no run needed); an operator can also observe
them from the UI (**Observe sources**).
"""


from datetime import datetime

import dagster as dg

from assets.partitions import quarterly_partitions
from assets.resources import PmisResource
from pmis_pipeline import inputs

GROUP = "inputs"


@dg.observable_source_asset(
    partitions_def=quarterly_partitions,
    group_name=GROUP,
    description=(
        "Tệp các đơn vị nộp cho quý (data/inbox/YYYY-Qn/, kể cả thư mục con) và receipts.csv. "
        "Phiên bản dữ liệu đổi khi có tệp mới, tệp sửa hoặc dòng biên nhận mới; tệp đang chép, "
        "tệp khóa của Excel (~$) và tệp ẩn không được tính."
    ),
)
def inbox(context: dg.OpExecutionContext, pmis: PmisResource) -> dg.DataVersionsByPartition:
    settings = pmis.settings()
    keys = list(context.partition_keys) if context.has_partition_key_range else quarterly_partitions.get_partition_keys()
    return dg.DataVersionsByPartition(inputs.inbox_versions(settings, keys))


@dg.observable_source_asset(
    partitions_def=quarterly_partitions,
    group_name=GROUP,
    description=(
        "Hạn nộp của quý (catalog/deadlines.csv hoặc lịch mặc định) và đã qua hạn hay chưa: "
        "văn bản lập trước hạn là bản DỰ THẢO, sau hạn là bản chính thức."
    ),
)
def deadlines(context: dg.OpExecutionContext, pmis: PmisResource) -> dg.DataVersionsByPartition:
    settings = pmis.settings()
    today = datetime.now(settings.tz).date()
    return dg.DataVersionsByPartition(inputs.deadline_versions(settings, quarterly_partitions.get_partition_keys(), today))


@dg.observable_source_asset(
    group_name=GROUP,
    description="Danh mục đơn vị của Sở (catalog/units.csv). Sửa danh mục làm mọi quý đọc nó trở nên cũ (stale).",
)
def unit_catalog(pmis: PmisResource) -> dg.DataVersion:
    return dg.DataVersion(inputs.catalog_version(pmis.settings()))


@dg.observable_source_asset(
    group_name=GROUP,
    description=(
        "Cấu hình hiệu lực (pmis_pipeline/default_config.toml và data/config.toml): quy tắc kiểm tra, "
        "trọng số xếp hạng, mức chi. Đổi cấu hình làm mọi quý trở nên cũ."
    ),
)
def pipeline_config(pmis: PmisResource) -> dg.DataVersion:
    return dg.DataVersion(inputs.config_version(pmis.settings()))


@dg.observable_source_asset(
    group_name=GROUP,
    description=(
        "Xác nhận của Sở cho số hồ sơ bất thường (catalog/payment_confirmations.csv): đơn vị có số hồ sơ tăng bất "
        "thường bị tạm giữ thanh toán cho đến khi Sở xác nhận."
    ),
)
def payment_confirmations(pmis: PmisResource) -> dg.DataVersion:
    return dg.DataVersion(inputs.confirmations_version(pmis.settings()))


INPUTS = [inbox, deadlines, unit_catalog, pipeline_config, payment_confirmations]
