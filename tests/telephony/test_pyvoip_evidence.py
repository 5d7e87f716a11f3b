"""Why the SIP line is not built on pyVoIP 1.6.8: its defects, reproduced here.

These tests assert that the defects exist. If a future pyVoIP fixes them, they fail:
that is the signal to reconsider building telephony/sip on it (docs/telephony.md).
"""

from __future__ import annotations

import inspect

import pytest

pyVoIP = pytest.importorskip("pyVoIP")
from pyVoIP.VoIP import VoIPPhone  # noqa: E402,F401,I001  (pyVoIP's own import order: circular)
from pyVoIP.SIP import SIPMessage  # noqa: E402

INVITE = (
    "INVITE sip:arm1@127.0.0.1:5070 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-1\r\n"
    "Record-Route: <sip:10.0.0.1;lr>\r\n"
    "Record-Route: <sip:10.0.0.2;lr>\r\n"
    "From: <sip:0612345678@sas.local>;tag=a\r\n"
    "To: <sip:15@sas.local>\r\n"
    "Call-ID: call-1\r\n"
    "CSeq: 1 INVITE\r\n"
    "Content-Length: 0\r\n\r\n"
)


def test_the_version_examined() -> None:
    assert pyVoIP.__version__ == "1.6.8"


def test_second_record_route_is_lost() -> None:
    # In-dialog requests would skip the second proxy (RFC 3261 §12.1.2 route set).
    assert SIPMessage(INVITE.encode()).headers["Record-Route"] == "<sip:10.0.0.1;lr>"


def test_compact_headers_are_not_understood() -> None:
    compact = INVITE.replace("Call-ID: call-1", "i: call-1").replace("From:", "f:")
    headers = SIPMessage(compact.encode()).headers
    assert headers.get("Call-ID") is None and headers.get("From") is None


@pytest.mark.parametrize(
    "variant",
    [
        INVITE.replace("Call-ID: call-1", "Call-ID:call-1"),  # legal: no space after the colon
        INVITE.replace("CSeq: 1 INVITE\r\n", "CSeq: 1 INVITE\r\nSubject: a\r\n  b\r\n"),  # folded
    ],
)
def test_legal_messages_crash_the_parser(variant: str) -> None:
    with pytest.raises(IndexError):
        SIPMessage(variant.encode())


def test_garbage_raises_instead_of_being_dropped() -> None:
    with pytest.raises(UnicodeDecodeError):
        SIPMessage(b"\xff\xfe garbage \x80\r\n\r\n")


def test_incoming_calls_wait_one_second() -> None:
    import pyVoIP.VoIP.VoIP as voip

    assert "Timer(1, self.callCallback" in inspect.getsource(voip)
