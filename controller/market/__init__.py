"""The market for link capacity: pure Python, no os_ken, mininet or scapy.

``clear_market(scenario, mechanism)`` returns a :class:`MarketResult`;
:class:`MarketError` is the market's one error type.
"""
from .clearing import clear_market
from .network import MarketError
from .result import DemandAllocation, LinkAllocation, MarketResult, ParticipantSettlement, PathFlow

__all__ = ["clear_market", "MarketError", "MarketResult", "DemandAllocation", "LinkAllocation",
           "ParticipantSettlement", "PathFlow"]
