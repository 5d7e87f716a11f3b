"""SIP messages: a lenient parser and a builder (RFC 3261 §7, §20, §25).

Why not pyVoIP's ``SIPMessage``: it keeps only the first occurrence of each header
(the second Record-Route and Via are lost, so in-dialog requests through Kamailio go
astray), splits on ``": "`` (``Via:SIP/2.0`` without a space fails), knows no compact
forms (``v:``, ``f:``, ``i:``…), no folded lines, and raises on a body holding a blank
line. This parser keeps every header in order, unfolds, expands compact names, and
raises :class:`SipParseError` (never anything else) on what it cannot read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

COMPACT = {
    "i": "call-id",
    "m": "contact",
    "e": "content-encoding",
    "l": "content-length",
    "c": "content-type",
    "f": "from",
    "s": "subject",
    "k": "supported",
    "t": "to",
    "v": "via",
    "r": "refer-to",
    "b": "referred-by",
    "o": "event",
    "u": "allow-events",
    "x": "session-expires",
    "a": "accept-contact",
    "j": "reject-contact",
    "d": "request-disposition",
    "y": "identity",
}

CANONICAL = {
    "call-id": "Call-ID",
    "cseq": "CSeq",
    "www-authenticate": "WWW-Authenticate",
    "p-asserted-identity": "P-Asserted-Identity",
    "p-called-party-id": "P-Called-Party-ID",
    "x-sas-line": "X-SAS-Line",
    "mime-version": "MIME-Version",
}

# Headers whose value may be a comma-separated list of entries (RFC 3261 §7.3.1).
LIST_HEADERS = {"via", "route", "record-route", "contact"}

REQUIRED = ("via", "from", "to", "call-id", "cseq")

TOKEN = re.compile(r"^[A-Za-z0-9.!%*_+`'~-]+$")


class SipParseError(ValueError):
    """The datagram is not a SIP message we can act on."""


def canonical(name: str) -> str:
    low = name.lower()
    return CANONICAL.get(low) or "-".join(p.capitalize() for p in low.split("-"))


def split_list(value: str) -> list[str]:
    """Split a header value on commas outside quotes and angle brackets."""
    parts: list[str] = []
    depth = 0
    quoted = False
    start = 0
    prev = ""
    for i, ch in enumerate(value):
        if ch == '"' and prev != "\\":
            quoted = not quoted
        elif not quoted and ch == "<":
            depth += 1
        elif not quoted and ch == ">":
            depth = max(0, depth - 1)
        elif ch == "," and not quoted and depth == 0:
            parts.append(value[start:i].strip())
            start = i + 1
        prev = ch
    parts.append(value[start:].strip())
    return [p for p in parts if p]


@dataclass
class SipMessage:
    """A request (``method`` set) or a response (``status`` set)."""

    method: str = ""
    uri: str = ""
    status: int = 0
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)  # (lower name, value)
    body: bytes = b""

    @property
    def is_request(self) -> bool:
        return bool(self.method)

    def get(self, name: str, default: str = "") -> str:
        low = COMPACT.get(name.lower(), name.lower()) if len(name) == 1 else name.lower()
        for key, value in self.headers:
            if key == low:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        low = name.lower()
        out: list[str] = []
        for key, value in self.headers:
            if key == low:
                out.extend(split_list(value) if low in LIST_HEADERS else [value])
        return out

    def set(self, name: str, value: str) -> None:
        low = name.lower()
        self.headers = [(k, v) for k, v in self.headers if k != low]
        self.headers.append((low, value))

    def add(self, name: str, value: str) -> None:
        self.headers.append((name.lower(), value))

    def remove(self, name: str) -> None:
        low = name.lower()
        self.headers = [(k, v) for k, v in self.headers if k != low]

    @property
    def call_id(self) -> str:
        return self.get("call-id")

    @property
    def cseq(self) -> tuple[int, str]:
        value = self.get("cseq").split()
        try:
            return int(value[0]), value[1].upper()
        except (IndexError, ValueError) as exc:
            raise SipParseError(f"bad CSeq {self.get('cseq')!r}") from exc

    @property
    def top_via(self) -> str:
        vias = self.get_all("via")
        return vias[0] if vias else ""

    @property
    def branch(self) -> str:
        return via_param(self.top_via, "branch")

    def encode(self) -> bytes:
        if self.method:
            first = f"{self.method} {self.uri} SIP/2.0"
        else:
            first = f"SIP/2.0 {self.status} {self.reason}"
        lines = [first]
        for key, value in self.headers:
            if key == "content-length":
                continue
            lines.append(f"{canonical(key)}: {value}")
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf8") + self.body


def parse(data: bytes) -> SipMessage:
    """Parse one datagram. Raises :class:`SipParseError` on anything unreadable."""
    if not data.strip():
        raise SipParseError("empty datagram")
    sep = data.find(b"\r\n\r\n")
    if sep >= 0:
        head, body = data[:sep], data[sep + 4 :]
    else:
        sep = data.find(b"\n\n")
        head, body = (data[:sep], data[sep + 2 :]) if sep >= 0 else (data, b"")
    try:
        text = head.decode("utf8")
    except UnicodeDecodeError as exc:
        raise SipParseError("headers are not UTF-8") from exc
    lines = text.replace("\r\n", "\n").split("\n")
    while lines and not lines[0].strip():  # RFC 3261 §7.5: ignore leading CRLFs
        lines.pop(0)
    if not lines:
        raise SipParseError("no start line")
    msg = _start_line(lines[0].strip())
    unfolded: list[str] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and unfolded:
            unfolded[-1] += " " + line.strip()
        elif line.strip():
            unfolded.append(line)
    for line in unfolded:
        name, colon, value = line.partition(":")
        name = name.strip()
        if not colon or not TOKEN.match(name):
            raise SipParseError(f"bad header line {line[:60]!r}")
        low = name.lower()
        low = COMPACT.get(low, low) if len(low) == 1 else low
        msg.headers.append((low, value.strip()))
    for required in REQUIRED:
        if not msg.get(required):
            raise SipParseError(f"missing {canonical(required)}")
    msg.cseq  # noqa: B018 - validates
    length = msg.get("content-length")
    if length:
        try:
            n = int(length)
        except ValueError as exc:
            raise SipParseError(f"bad Content-Length {length!r}") from exc
        if n < 0 or n > len(body):
            raise SipParseError("Content-Length beyond the datagram")
        body = body[:n]
    msg.body = body
    return msg


def _start_line(line: str) -> SipMessage:
    parts = line.split(None, 2)
    if len(parts) < 2:
        raise SipParseError(f"bad start line {line[:60]!r}")
    if parts[0].upper() == "SIP/2.0":
        try:
            status = int(parts[1])
        except ValueError as exc:
            raise SipParseError(f"bad status {parts[1]!r}") from exc
        if not 100 <= status <= 699:
            raise SipParseError(f"bad status {status}")
        return SipMessage(status=status, reason=parts[2] if len(parts) > 2 else "")
    if len(parts) != 3 or parts[2].upper() != "SIP/2.0" or not TOKEN.match(parts[0]):
        raise SipParseError(f"bad request line {line[:60]!r}")
    return SipMessage(method=parts[0].upper(), uri=parts[1])


def via_param(via: str, name: str) -> str:
    for part in via.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == name:
            return value.strip()
    return ""


def via_sent_by(via: str) -> tuple[str, int]:
    """(host, port) from a Via's sent-by; default port 5060."""
    sent = via.split(";")[0].split()
    hostport = sent[-1] if sent else ""
    host, _, port = hostport.rpartition(":") if hostport.count(":") == 1 else (hostport, "", "")
    try:
        return host, int(port) if port else 5060
    except ValueError:
        return host, 5060


@dataclass
class NameAddr:
    display: str
    uri: str
    params: dict[str, str]

    @property
    def tag(self) -> str:
        return self.params.get("tag", "")

    def __str__(self) -> str:
        disp = f'"{self.display}" ' if self.display else ""
        params = "".join(f";{k}={v}" if v else f";{k}" for k, v in self.params.items())
        return f"{disp}<{self.uri}>{params}"


def parse_name_addr(value: str) -> NameAddr:
    value = value.strip()
    display = ""
    if "<" in value:
        before, _, rest = value.partition("<")
        uri, _, after = rest.partition(">")
        display = before.strip().strip('"').strip()
    else:
        # addr-spec: parameters after the URI belong to the header
        uri, _, after = value.partition(";")
        after = ";" + after if after else ""
    params: dict[str, str] = {}
    for part in after.split(";"):
        if part.strip():
            key, _, val = part.partition("=")
            params[key.strip().lower()] = val.strip()
    return NameAddr(display, uri.strip(), params)


@dataclass
class SipUri:
    user: str
    host: str
    port: int
    params: dict[str, str]

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port or 5060


def parse_uri(uri: str) -> SipUri:
    uri = uri.strip()
    if uri.lower().startswith("sips:"):
        rest = uri[5:]
    elif uri.lower().startswith("sip:"):
        rest = uri[4:]
    elif uri.lower().startswith("tel:"):
        number = uri[4:].split(";")[0]
        return SipUri(number, "", 0, {})
    else:
        raise SipParseError(f"not a SIP URI: {uri[:60]!r}")
    rest = rest.split("?")[0]
    main, *params = rest.split(";")
    user, _, hostport = main.rpartition("@")
    host, _, port = hostport.partition(":")
    try:
        portnum = int(port) if port else 0
    except ValueError as exc:
        raise SipParseError(f"bad port in {uri[:60]!r}") from exc
    pdict = {}
    for p in params:
        k, _, v = p.partition("=")
        pdict[k.lower()] = v
    return SipUri(user.split(":")[0], host, portnum, pdict)


def user_of(header_value: str) -> str:
    """The user part (a phone number, a desk name) of a name-addr header value."""
    if not header_value:
        return ""
    try:
        return parse_uri(parse_name_addr(header_value).uri).user
    except SipParseError:
        return ""
