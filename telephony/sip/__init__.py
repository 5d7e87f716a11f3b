"""SIP back-end of the desk line (see docs/telephony.md for why it is not pyVoIP's)."""

from telephony.sip.agent import AgentState, Registration, RegistrationState
from telephony.sip.line import SipConfig, SipLine

__all__ = ["AgentState", "Registration", "RegistrationState", "SipConfig", "SipLine"]
