"""SIPp scenarios playing the callers (and the far ends of outgoing calls), and a runner.

Used by the telephony tests and by ``sasdesk bench sip``. SIPp's own keywords
([service], [branch], [next_url], [routes], [peer_tag_param]) fill the messages.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from telephony.kamailio.room import free_udp_port, peer_process_setup

SIPP = shutil.which("sipp") or "/usr/bin/sipp"
PCAPS = Path("/usr/share/sip-tester")

_HEAD = '<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="{name}">\n'

_SDP = """v=0
      o=caller 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP {pt} 101
      a=rtpmap:{pt} {codec}/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
      a=ptime:{ptime}"""

_INVITE = """  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@{domain} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Appelant" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@{domain}>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:{caller}@[local_ip]:[local_port]>
      Max-Forwards: 70
      {extra}Content-Type: application/sdp
      Content-Length: [len]

      {sdp}
    ]]>
  </send>
"""

_ACK_2XX = """  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: "Appelant" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@{domain}>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:{caller}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
"""

_BYE = """  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: "Appelant" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@{domain}>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true"/>
"""

_RECV_BYE = """  <recv request="BYE" timeout="{timeout}"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
"""


def caller_scenario(
    domain: str,
    caller: str = "0612345678",
    codec: str = "PCMA",
    pcap: Path | None = None,
    talk_ms: int = 1000,
    hangup: str = "caller",  # caller | desk
    answer_timeout_ms: int = 20000,
    extra_headers: str = "",
    dtmf_pcaps: list[Path] | None = None,
) -> str:
    """A patient calls [service] (15, 116117) through the room's proxy."""
    pt = {"PCMU": 0, "G722": 9}.get(codec, 8)
    ptime = 30 if pcap is not None and pcap.name == "g711a.pcap" else 20
    extra = "".join(f"{h}\n      " for h in extra_headers.splitlines() if h.strip())
    xml = _HEAD.format(name="sasdesk caller")
    xml += _INVITE.format(
        domain=domain, caller=caller, extra=extra, sdp=_SDP.format(pt=pt, codec=codec, ptime=ptime)
    )
    xml += '  <recv response="100" optional="true"/>\n'
    xml += '  <recv response="180" optional="true"/>\n'
    xml += '  <recv response="183" optional="true"/>\n'
    xml += f'  <recv response="200" rtd="true" rrs="true" timeout="{answer_timeout_ms}"/>\n'
    xml += _ACK_2XX.format(domain=domain, caller=caller)
    for p in [pcap] if pcap else []:
        xml += f'  <nop><action><exec play_pcap_audio="{p}"/></action></nop>\n'
    for p in dtmf_pcaps or []:
        xml += f'  <nop><action><exec play_pcap_audio="{p}"/></action></nop>\n'
        xml += '  <pause milliseconds="400"/>\n'
    if hangup == "caller":
        xml += f'  <pause milliseconds="{talk_ms}"/>\n'
        xml += _BYE.format(domain=domain, caller=caller)
    else:
        xml += _RECV_BYE.format(timeout=max(talk_ms, 1000) + 30000)
    xml += "</scenario>\n"
    return xml


def cancel_scenario(domain: str, caller: str = "0612345678", ring_ms: int = 500) -> str:
    """A patient calls, hears it ring, and gives up (CANCEL): a missed call."""
    xml = _HEAD.format(name="sasdesk caller gives up")
    xml += _INVITE.format(
        domain=domain, caller=caller, extra="", sdp=_SDP.format(pt=8, codec="PCMA", ptime=20)
    )
    xml += '  <recv response="100" optional="true"/>\n'
    xml += '  <recv response="180"/>\n'
    xml += f'  <pause milliseconds="{ring_ms}"/>\n'
    # [branch-N] repeats the INVITE's branch: a CANCEL belongs to its INVITE (§9.1)
    for method, recvs in (
        # The proxy's 200 to the CANCEL and the desk's 487 to the INVITE travel on two
        # transactions: either may arrive first (seen under load). What the test needs is
        # the 487; a 200 arriving after the ACK belongs to a finished call.
        ("CANCEL", '  <recv response="200" optional="true"/>\n  <recv response="487"/>\n'),
        ("ACK", ""),
    ):
        offset = 4 if method == "CANCEL" else 7
        to_tag = "[peer_tag_param]" if method == "ACK" else ""
        xml += f"""  <send>
    <![CDATA[
      {method} sip:[service]@{domain} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-{offset}]
      From: "Appelant" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@{domain}>{to_tag}
      Call-ID: [call_id]
      CSeq: 1 {method}
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
{recvs}"""
    xml += "</scenario>\n"
    return xml


#: The callee's challenge of the first INVITE (digest, realm "gateway.example").
_CHALLENGE_401 = """  <recv request="INVITE"/>
  <send>
    <![CDATA[
      SIP/2.0 401 Unauthorized
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      WWW-Authenticate: Digest realm="gateway.example", nonce="[pid]n[call_number]", algorithm=MD5
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK"/>
"""
#: Without valid credentials on the second INVITE: 403, and the scenario fails.
_CHALLENGE_403 = """  <nop test="authvalid" next="authorized"/>
  <send>
    <![CDATA[
      SIP/2.0 403 Forbidden
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK"/>
  <recv request="NEVER" timeout="200"/>
  <label id="authorized"/>
"""


def callee_scenario(
    talk_ms: int = 0,
    pcap: Path | None = None,
    status: int = 200,
    challenge: tuple[str, str] | None = None,
) -> str:
    """The far end of an outgoing call (a doctor's phone behind the gateway).

    talk_ms > 0: the callee hangs up after that long; 0: it waits for the desk's BYE.
    status 486: the line is busy. challenge (user, password): the first INVITE gets a
    401 (realm "gateway.example"), the second must carry valid credentials, else 403
    and the scenario fails.
    """
    xml = _HEAD.format(name="sasdesk callee")
    actions = []
    if talk_ms > 0 and status == 200:  # SIPp refuses a variable it never uses
        actions.append('<ereg regexp=".*" search_in="hdr" header="From:" assign_to="remote_from"/>')
    if challenge is not None:
        xml += _CHALLENGE_401
        actions.append(
            f'<verifyauth assign_to="authvalid" username="{challenge[0]}" '
            f'password="{challenge[1]}"/>'
        )
    if actions:
        xml += (
            '  <recv request="INVITE" crlf="true" rrs="true"><action>'
            + "".join(actions)
            + "</action></recv>\n"
        )
    else:
        xml += '  <recv request="INVITE" crlf="true" rrs="true"/>\n'
    if challenge is not None:
        xml += _CHALLENGE_403
    common = """      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:doctor@[local_ip]:[local_port]>"""
    if status != 200:
        xml += f"""  <send>
    <![CDATA[
      SIP/2.0 {status} Busy Here
{common}
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK"/>
</scenario>
"""
        return xml
    return xml + _callee_answers(common, pcap, talk_ms)


def _callee_answers(common: str, pcap: Path | None, talk_ms: int) -> str:
    """The callee's ringing and 200 OK (PCMA), its audio, then its BYE after ``talk_ms``
    or the desk's BYE awaited: the scenario's end."""
    xml = ""
    xml += f"""  <send>
    <![CDATA[
      SIP/2.0 180 Ringing
{common}
      Content-Length: 0

    ]]>
  </send>
  <pause milliseconds="300"/>
  <send retrans="500">
    <![CDATA[
      SIP/2.0 200 OK
{common}
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=doctor 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
    ]]>
  </send>
  <recv request="ACK" crlf="true"/>
"""
    if pcap is not None:
        xml += f'  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>\n'
    if talk_ms > 0:
        xml += f'  <pause milliseconds="{talk_ms}"/>\n'
        xml += """  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: <sip:doctor@[local_ip]:[local_port]>;tag=[pid]SIPpTag01[call_number]
      To: [$remote_from]
      Call-ID: [call_id]
      CSeq: 1 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
"""
    else:
        xml += _RECV_BYE.format(timeout=600000)
    xml += "</scenario>\n"
    return xml


def sipp_counts(stats_csv: str) -> dict[str, int]:
    """Calls attempted, answered and failed, from the last row of SIPp's ``-trace_stat``."""
    lines = [line for line in stats_csv.splitlines() if line.strip()]
    if len(lines) < 2:
        return {}
    header = lines[0].rstrip(";").split(";")
    last = lines[-1].rstrip(";").split(";")
    row = dict(zip(header, last, strict=False))
    out = {}
    for key, name in (
        ("TotalCallCreated", "attempted"),
        ("SuccessfulCall(C)", "answered"),
        ("FailedCall(C)", "failed"),
    ):
        try:
            out[name] = int(row[key])
        except (KeyError, ValueError):
            pass
    return out


@dataclass
class Sipp:
    """One SIPp process on 127.0.0.1 with a scenario given as XML text."""

    scenario: str
    proxy: tuple[str, int] | None = None  # UAC: where to send
    service: str = "15"
    calls: int = 1
    rate: float = 1.0
    max_concurrent: int = 0
    timeout_s: float = 60.0
    host: str = "127.0.0.1"
    port: int = 0
    extra_args: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="sasdesk-sipp-"))
        if not self.port:
            self.port = free_udp_port(self.host)
        self.media_port = free_udp_port(self.host, span=4)  # RTP, RTCP, and video pair
        self._proc: subprocess.Popen[bytes] | None = None
        self.stdout = ""
        self.stderr = ""

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def command(self) -> list[str]:
        path = self._dir / "scenario.xml"
        path.write_text(self.scenario)
        cmd = [
            SIPP,
            "-sf",
            str(path),
            "-i",
            self.host,
            "-p",
            str(self.port),
            "-mi",
            self.host,
            "-mp",
            str(self.media_port),
            "-m",
            str(self.calls),
            "-r",
            str(self.rate),
            "-rp",
            "1000",
            "-timeout",
            f"{int(self.timeout_s)}s",
            "-timeout_error",
            "-nostdin",
            "-trace_err",
            "-error_file",
            str(self._dir / "errors.log"),
            "-trace_stat",
            "-stf",
            str(self._dir / "stats.csv"),
            "-recv_timeout",
            "60000",
            "-s",
            self.service,
        ]
        if self.max_concurrent:
            cmd += ["-l", str(self.max_concurrent)]
        cmd += self.extra_args
        if self.proxy is not None:
            cmd.append(f"{self.proxy[0]}:{self.proxy[1]}")
        return cmd

    def start(self) -> Sipp:
        self._proc = subprocess.Popen(
            self.command(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=self._dir,
            preexec_fn=peer_process_setup,  # noqa: PLW1509
        )
        return self

    def wait(self, timeout: float | None = None) -> int:
        assert self._proc is not None
        try:
            out, err = self._proc.communicate(timeout=timeout or self.timeout_s + 10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            out, err = self._proc.communicate()
        self.stdout = out.decode("utf8", "replace")
        self.stderr = err.decode("utf8", "replace")
        return self._proc.returncode

    def counts(self) -> dict[str, int]:
        """What this run's ``stats.csv`` says (``sipp_counts``); empty before the first row."""
        stats = self._dir / "stats.csv"
        return sipp_counts(stats.read_text() if stats.exists() else "")

    @property
    def errors(self) -> str:
        """SIPp's error log and the end of its console output, for assertion messages."""
        path = self._dir / "errors.log"
        log = path.read_text(errors="replace")[-3000:] if path.exists() else ""
        return (
            f"{log}\n--- stderr ---\n{self.stderr[-1500:]}\n--- stdout ---\n{self.stdout[-1500:]}"
        )

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(5)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)
