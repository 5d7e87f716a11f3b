"""SDP offer/answer for one audio stream (RFC 4566, RFC 3264): G.722, G.711, RFC 4733 events."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

STATIC = {0: "PCMU", 8: "PCMA", 9: "G722"}  # G.722: clock 8000 in SDP (RFC 3551), 16 kHz audio
BY_NAME = {"PCMU": 0, "PCMA": 8, "G722": 9}
WIDEBAND = 9
DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
REVERSE = {
    "sendrecv": "sendrecv",
    "sendonly": "recvonly",
    "recvonly": "sendonly",
    "inactive": "inactive",
}


class SdpError(ValueError):
    pass


@dataclass
class MediaDescription:
    address: str
    port: int
    payloads: list[int]  # audio payload types, in the sender's order of preference
    rtpmap: dict[int, str] = field(default_factory=dict)  # pt -> "PCMA/8000"
    direction: str = "sendrecv"
    dtmf_pt: int | None = None
    profile: str = "RTP/AVP"  # RTP/SAVP: SRTP keyed by the a=crypto lines (RFC 4568)
    crypto: list[str] = field(default_factory=list)  # a=crypto values, in offer order

    @property
    def secure(self) -> bool:
        return self.profile == "RTP/SAVP"

    def codec(self, pt: int) -> str:
        name = self.rtpmap.get(pt) or STATIC.get(pt, "")
        return name.split("/")[0].upper()


def parse(body: bytes) -> MediaDescription:
    try:
        text = body.decode("utf8")
    except UnicodeDecodeError as exc:
        raise SdpError("SDP is not UTF-8") from exc
    session_addr = ""
    media: MediaDescription | None = None
    session_dir = "sendrecv"
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if len(line) < 2 or line[1] != "=":
            continue
        kind, value = line[0], line[2:]
        if kind == "c":
            parts = value.split()
            if len(parts) == 3:
                addr = parts[2].split("/")[0]
                if media is None:
                    session_addr = addr
                else:
                    media.address = addr
        elif kind == "m":
            if media is not None:
                break  # only the first audio stream
            parts = value.split()
            if len(parts) < 4 or parts[0] != "audio":
                continue
            try:
                port = int(parts[1].split("/")[0])
                pts = [int(p) for p in parts[3:]]
            except ValueError as exc:
                raise SdpError(f"bad m= line {value!r}") from exc
            media = MediaDescription(
                session_addr, port, pts, direction=session_dir, profile=parts[2]
            )
        elif kind == "a":
            name, _, arg = value.partition(":")
            if name in DIRECTIONS:
                if media is None:
                    session_dir = name
                else:
                    media.direction = name
            elif name == "crypto" and media is not None:
                media.crypto.append(arg.strip())
            elif name == "rtpmap" and media is not None:
                pt_s, _, enc = arg.partition(" ")
                try:
                    media.rtpmap[int(pt_s)] = enc.strip()
                except ValueError:
                    continue
    if media is None:
        raise SdpError("no audio stream")
    if not media.address:
        raise SdpError("no connection address")
    for pt, enc in media.rtpmap.items():
        if enc.lower().startswith("telephone-event"):
            media.dtmf_pt = pt
    return media


def build(
    address: str,
    port: int,
    payloads: list[int],
    dtmf_pt: int | None = 101,
    direction: str = "sendrecv",
    session_id: int | None = None,
    version: int = 1,
    crypto: str = "",
) -> bytes:
    """``crypto``: our ``a=crypto`` value; the stream is then RTP/SAVP (SRTP)."""
    sid = session_id if session_id is not None else int(time.time())
    fmts = list(payloads) + ([dtmf_pt] if dtmf_pt is not None else [])
    lines = [
        "v=0",
        f"o=sasdesk {sid} {version} IN IP4 {address}",
        "s=sasdesk",
        f"c=IN IP4 {address}",
        "t=0 0",
        f"m=audio {port} {'RTP/SAVP' if crypto else 'RTP/AVP'} {' '.join(str(p) for p in fmts)}",
    ]
    if crypto:
        lines.append(f"a=crypto:{crypto}")
    for pt in payloads:
        lines.append(f"a=rtpmap:{pt} {STATIC[pt]}/8000")
    if dtmf_pt is not None:
        lines.append(f"a=rtpmap:{dtmf_pt} telephone-event/8000")
        lines.append(f"a=fmtp:{dtmf_pt} 0-16")
    lines.append("a=ptime:20")
    lines.append(f"a={direction}")
    return ("\r\n".join(lines) + "\r\n").encode()


def choose_codec(offer: MediaDescription, supported: list[str]) -> int | None:
    """G.722 when the offer has it and we support it (HD voice whenever the trunk
    carries it), else the first payload of the offer (offerer's preference) we support."""
    usable = [pt for pt in offer.payloads if pt in STATIC and offer.codec(pt) in supported]
    if WIDEBAND in usable:
        return WIDEBAND
    return usable[0] if usable else None


def answered_codec(answer: MediaDescription, offered: list[str]) -> int | None:
    """The payload the answerer kept among those we offered (RFC 3264 §6: its first)."""
    for pt in answer.payloads:
        if pt in STATIC and answer.codec(pt) in offered:
            return pt
    return None
