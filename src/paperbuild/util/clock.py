"""The build's clock: SOURCE_DATE_EPOCH when set (reproducible builds), else now."""

from __future__ import annotations

import datetime as dt
import os


def build_datetime() -> dt.datetime:
    """Return the build's timestamp: SOURCE_DATE_EPOCH when set, else now (UTC, whole seconds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).replace(tzinfo=None)
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
