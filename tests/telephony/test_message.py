"""The SIP parser: what pyVoIP 1.6.8's SIPMessage gets wrong, we must get right."""

from __future__ import annotations

import pytest

from telephony.sip.message import SipParseError, parse, parse_name_addr, user_of

INVITE = (
    "INVITE sip:arm1@127.0.0.1:5070 SIP/2.0\r\n"
    "Record-Route: <sip:127.0.0.1:5060;lr=on;ftag=a>\r\n"
    "Record-Route: <sip:10.0.0.1;lr>, <sip:10.0.0.2;lr>\r\n"
    "v: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n"
    "Via:SIP/2.0/UDP 127.0.0.1:5099;rport=5099;branch=z9hG4bK2\r\n"
    'f: "Dupont, Jean" <sip:0612345678@op.example>;tag=abc\r\n'
    "t: <sip:15@sas.local>\r\n"
    "i: call-1\r\n"
    "CSeq: 1 INVITE\r\n"
    "Subject: folded\r\n"
    "\t over two lines\r\n"
    "c: application/sdp\r\n"
    "l: 8\r\n"
    "\r\n"
    "v=0\r\n\r\nX"
)


def test_compact_folded_repeated_headers() -> None:
    msg = parse(INVITE.encode())
    assert msg.method == "INVITE" and msg.call_id == "call-1"
    assert msg.get_all("record-route") == [
        "<sip:127.0.0.1:5060;lr=on;ftag=a>",
        "<sip:10.0.0.1;lr>",
        "<sip:10.0.0.2;lr>",
    ]
    assert len(msg.get_all("via")) == 2 and msg.branch == "z9hG4bK1"
    assert msg.get("subject") == "folded over two lines"
    assert msg.body == b"v=0\r\n\r\nX"  # a blank line inside the body is kept
    assert parse_name_addr(msg.get("from")).display == "Dupont, Jean"
    assert user_of(msg.get("from")) == "0612345678"
    assert user_of(msg.get("to")) == "15"


def test_reencoded_message_parses_the_same() -> None:
    msg = parse(INVITE.encode())
    again = parse(msg.encode())
    assert again.headers == [(k, v) for k, v in msg.headers if k != "content-length"] + [
        ("content-length", "8")
    ]
    assert again.body == msg.body


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x01garbage",
        b"INVITE sip:a@b SIP/2.0\r\n\r\n",
        b"SIP/2.0 abc OK\r\n\r\n",
        b"INVITE sip:a@b SIP/2.0\r\nnot a header\r\n\r\n",
        b"INVITE sip:a@b SIP/2.0\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: x\r\n\r\n",
        b"INVITE sip:a@b SIP/2.0\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n"
        b"Content-Length: 99\r\n\r\nshort",
        "INVITE sip:a@b SIP/2.0\r\nVia: \udcff\r\n\r\n".encode("utf8", "surrogateescape"),
    ],
)
def test_unreadable_datagrams_raise_one_error_type(data: bytes) -> None:
    with pytest.raises(SipParseError):
        parse(data)
