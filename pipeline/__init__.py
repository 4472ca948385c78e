"""Event-driven ingestion of public counter-terrorism contributions into searchable intelligence."""

from pipeline.errors import PipelineError
from pipeline.settings import Settings, get_settings

__all__ = ["PipelineError", "Settings", "get_settings"]
__version__ = "0.1.0"
