"""During a call: hold/resume (re-INVITE), blind transfer (REFER), DTMF, INFO, OPTIONS."""

from __future__ import annotations

import logging

from telephony.line import EndReason, LineEventKind
from telephony.sip import sdp
from telephony.sip.dialog import Call
from telephony.sip.message import (
    SipMessage,
    SipParseError,
    parse_name_addr,
    parse_uri,
)
from telephony.sip.useragent import ALLOW, UserAgent

log = logging.getLogger(__name__)


class MidCallFeatures(UserAgent):
    def _on_options(self, req: SipMessage, source: tuple[str, int], arrival: float) -> None:
        self._reply(
            req,
            source,
            200,
            "OK",
            extra={
                "allow": ALLOW,
                "accept": "application/sdp",
                "supported": "replaces",
                "contact": self._contact,
            },
        )

    def _on_info(self, req: SipMessage, source: tuple[str, int], arrival: float) -> None:
        call = self._calls.get(req.call_id)
        if call is None:
            self._reply(req, source, 481, "Call/Transaction Does Not Exist")
            return
        self._reply(req, source, 200, "OK")
        if "dtmf-relay" in req.get("content-type").lower():
            for line in req.body.decode("utf8", "replace").splitlines():
                key, _, value = line.partition("=")
                if key.strip().lower() == "signal" and value.strip():
                    self._emit(LineEventKind.DTMF, call, digit=value.strip()[:1])

    def _on_notify(self, req: SipMessage, source: tuple[str, int], arrival: float) -> None:
        call = self._calls.get(req.call_id)
        if call is None:
            self._reply(req, source, 481, "Call/Transaction Does Not Exist")
            return
        self._reply(req, source, 200, "OK")
        # REFER progress (RFC 3515): a final status of the transferred call ends ours
        body = req.body.decode("utf8", "replace").strip()
        if call.pending_transfer and body.startswith("SIP/2.0"):
            try:
                status = int(body.split()[1])
            except (IndexError, ValueError):
                return
            if status >= 200 and call.state == "confirmed":
                self._send_bye(call)
                self._end(call, EndReason.TRANSFERRED)

    def _on_reinvite(self, call: Call, req: SipMessage, source: tuple[str, int]) -> None:
        if call.state not in ("confirmed", "answering") or call.rtp is None:
            self._reply(req, source, 491, "Request Pending")
            return
        try:
            offer = sdp.parse(req.body) if req.body else None
        except sdp.SdpError:
            offer = None
        if offer is None:
            self._reply(req, source, 488, "Not Acceptable Here")
            return
        pt = sdp.choose_codec(offer, list(self.config.codecs)) or call.payload_type
        call.offer = offer
        call.rtp.update((offer.address, offer.port), pt, offer.dtmf_pt)
        remote_hold = offer.direction in ("sendonly", "inactive") or offer.address == "0.0.0.0"
        call.rtp.sending = not remote_hold and not call.held
        call.sdp_version += 1
        body = sdp.build(
            self._transport.host if self._transport else "",
            call.rtp.port,
            [pt],
            101,
            sdp.REVERSE.get(offer.direction, "sendrecv"),
            version=call.sdp_version,
            crypto=call.local_crypto,  # the keys of the call stay (a re-key is not supported)
        )
        self._reply(
            req,
            source,
            200,
            "OK",
            to_tag=call.local_tag,
            extra={"contact": self._contact},
            body=body,
            content_type="application/sdp",
        )
        if remote_hold != call.remote_held:
            call.remote_held = remote_hold
            self._emit(
                LineEventKind.HELD if remote_hold else LineEventKind.RESUMED, call, reason="remote"
            )

    def hold(self, call_id: str) -> None:
        self._reinvite(call_id, hold=True)

    def resume(self, call_id: str) -> None:
        self._reinvite(call_id, hold=False)

    def _reinvite(self, call_id: str, hold: bool) -> None:
        with self._lock:
            call = self._calls.get(call_id)
            if call is None or call.state != "confirmed" or call.rtp is None:
                raise ValueError(f"no established call {call_id}")
            call.sdp_version += 1
            req, dest = self._dialog_request(call, "INVITE")
            req.add("content-type", "application/sdp")
            req.body = sdp.build(
                self._transport.host if self._transport else "",
                call.rtp.port,
                [call.payload_type],
                101,
                "sendonly" if hold else "sendrecv",
                version=call.sdp_version,
                crypto=call.local_crypto,
            )

            def on_response(resp: SipMessage) -> None:
                if resp.status < 200:
                    return
                if resp.status < 300:
                    ack, _ = self._dialog_request(call, "ACK", cseq=resp.cseq[0])
                    self._send(ack, dest)
                    call.held = hold
                    if call.rtp is not None:
                        call.rtp.sending = not hold
                    self._emit(LineEventKind.HELD if hold else LineEventKind.RESUMED, call)
                else:
                    self._ack_error(req, resp, dest)

            self._request(req, dest, on_response, lambda: None)

    def transfer(self, call_id: str, target: str) -> None:
        """Blind transfer: the peer is asked to call ``target`` (a group such as n2-amu)."""
        with self._lock:
            call = self._calls.get(call_id)
            if call is None or call.state != "confirmed":
                raise ValueError(f"no established call {call_id}")
            uri = target if target.startswith("sip:") else f"sip:{target}@{self.config.sip_domain}"
            req, dest = self._dialog_request(call, "REFER")
            req.add("refer-to", f"<{uri}>")
            req.add("referred-by", f"<sip:{self.config.user}@{self.config.sip_domain}>")

            def on_response(resp: SipMessage) -> None:
                if resp.status < 200:
                    return
                if resp.status < 300:
                    call.pending_transfer = target
                    self._emit(LineEventKind.TRANSFERRED, call, number=target)
                else:
                    log.info("REFER refused: %s %s", resp.status, resp.reason)

            self._request(req, dest, on_response, lambda: None)

    def _on_refer(self, req: SipMessage, source: tuple[str, int], arrival: float) -> None:
        """Transferee side (RFC 3515): call the target, report progress by NOTIFY."""
        call = self._calls.get(req.call_id)
        if call is None or call.state != "confirmed":
            self._reply(req, source, 481, "Call/Transaction Does Not Exist")
            return
        try:
            target = parse_uri(parse_name_addr(req.get("refer-to")).uri).user
        except SipParseError:
            target = ""
        if not target:
            self._reply(req, source, 400, "Bad Refer-To")
            return
        self._reply(req, source, 202, "Accepted", to_tag=call.local_tag)
        call.pending_transfer = target
        self._notify_refer(call, "SIP/2.0 100 Trying", final=False)
        new_id = self.dial(target)
        self._calls[new_id].referred_from = call.call_id

    def _notify_refer(self, call: Call, status_line: str, final: bool) -> None:
        req, dest = self._dialog_request(call, "NOTIFY")
        req.add("event", "refer")
        req.add("subscription-state", "terminated;reason=noresource" if final else "active")
        req.add("content-type", "message/sipfrag;version=2.0")
        req.body = (status_line + "\r\n").encode()
        self._request(req, dest, lambda r: None, lambda: None)

    def _refer_outcome(self, new: Call, status_line: str) -> None:
        original = self._calls.get(new.referred_from)
        if original is not None and original.state == "confirmed":
            self._notify_refer(original, status_line, final=True)

    def send_dtmf(self, call_id: str, digits: str) -> None:
        with self._lock:
            call = self._calls.get(call_id)
            if call is None or call.rtp is None or call.state != "confirmed":
                raise ValueError(f"no established call {call_id}")
            call.rtp.send_dtmf(digits)
