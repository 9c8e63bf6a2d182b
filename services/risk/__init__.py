"""Risk alerts: price alerts, declared positions (liquidation warnings) and market risk for feeds."""

from services.risk.config import RiskConfig
from services.risk.jobs import Report, RiskEngine
from services.risk.limits import LimitReached

__all__ = ["LimitReached", "Report", "RiskConfig", "RiskEngine"]
