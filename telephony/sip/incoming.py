"""Incoming calls: presented at once with their line and caller; answer, reject, CANCEL."""

from __future__ import annotations

import logging
import secrets
import time

from telephony.audio.srtp import SrtpContext, new_crypto, parse_crypto
from telephony.line import EndReason, LineEventKind
from telephony.sip import sdp
from telephony.sip.agent import AgentState
from telephony.sip.dialog import Call
from telephony.sip.message import (
    SipMessage,
    parse_name_addr,
    user_of,
)
from telephony.sip.useragent import ALLOW, UserAgent

log = logging.getLogger(__name__)


class IncomingCalls(UserAgent):
    @staticmethod
    def _line_of(req: SipMessage) -> str:
        """The service line dialled: the proxy's mark, then the standard headers."""
        marked = req.get("x-sas-line").strip()
        if marked:
            return marked
        for header in ("p-called-party-id", "diversion"):
            values = req.get_all(header)
            if header == "diversion":
                # Diversion: the last entry is the first redirection, i.e. the number dialled
                values = [v for value in values for v in value.split(",")][-1:]
            for value in values:
                user = user_of(value)
                if user:
                    return user
        return user_of(req.get("to"))

    @staticmethod
    def _caller_of(req: SipMessage) -> str:
        for value in req.get_all("p-asserted-identity"):
            user = user_of(value)
            if user:
                return user
        return user_of(req.get("from"))

    def _on_invite(self, req: SipMessage, source: tuple[str, int], arrival: float) -> None:
        to_tag = parse_name_addr(req.get("to")).tag
        call = self._calls.get(req.call_id)
        if to_tag:
            if call is None or call.local_tag != to_tag:
                self._reply(req, source, 481, "Call/Transaction Does Not Exist")
                return
            self._on_reinvite(call, req, source)
            return
        if call is not None:
            if req.branch == call.invite_branch and call.last_response:
                self._send(call.last_response, self._reply_address(req, source))
            return
        line, caller = self._line_of(req), self._caller_of(req)
        tag = secrets.token_hex(6)
        required = [r.strip() for r in req.get("require").split(",") if r.strip()]
        if required:  # no SIP extension is required of us (100rel, timer...): RFC 3261 §8.2.2.3
            self._reply(
                req,
                source,
                420,
                "Bad Extension",
                to_tag=tag,
                extra={"unsupported": ", ".join(required)},
            )
            return
        if self._stopping:
            self._reply(req, source, 480, "Temporarily Unavailable", to_tag=tag)
            return
        busy = sum(1 for c in self._calls.values() if c.state != "ended") >= self.config.max_calls
        if self._agent in (AgentState.PAUSED, AgentState.WRAP_UP) or busy:
            # not presented: the desk never rang, the fork goes on to the others
            self.stats["rejected_busy"] += 1
            self._reply(req, source, 486, "Busy Here", to_tag=tag)
            log.debug(
                "486 to %s (line %s, caller %s): %s",
                req.call_id,
                line,
                caller,
                "in a call" if busy else self._agent,
            )
            return
        # no body: a late offer (RFC 3261 §13.2.1), ours goes in the 200, theirs in the ACK
        try:
            offer = sdp.parse(req.body) if req.body else None
        except sdp.SdpError:
            offer = None
        if req.body and (
            offer is None or sdp.choose_codec(offer, list(self.config.codecs)) is None
        ):
            self._reply(req, source, 488, "Not Acceptable Here", to_tag=tag)
            return
        refusal = self._srtp_refusal(offer)
        if refusal:
            self.stats["rejected_media_security"] = self.stats.get("rejected_media_security", 0) + 1
            log.info("call %s refused: %s", req.call_id, refusal)
            self._reply(
                req, source, 488, "Not Acceptable Here", to_tag=tag, extra={"warning": refusal}
            )
            return
        call = Call(
            call_id=req.call_id,
            incoming=True,
            line=line,
            caller=caller,
            local_tag=tag,
            remote_tag=parse_name_addr(req.get("from")).tag,
            local_uri=self._strip_tag(req.get("to")),
            remote_uri=self._strip_tag(req.get("from")),
            remote_target=parse_name_addr(req.get("contact") or req.get("from")).uri,
            route_set=req.get_all("record-route"),
            invite=req,
            invite_source=source,
            invite_branch=req.branch,
            invite_cseq=req.cseq[0],
            offer=offer,
            arrival=arrival,
        )
        self._calls[call.call_id] = call
        call.last_response = self._reply(
            req,
            source,
            180,
            "Ringing",
            to_tag=tag,
            extra={"contact": self._contact, "allow": ALLOW},
        )
        call.ringing_at = time.time()
        self._emit(LineEventKind.RINGING, call)

    @staticmethod
    def _strip_tag(value: str) -> str:
        na = parse_name_addr(value)
        na.params.pop("tag", None)
        return str(na)

    def answer(self, call_id: str) -> None:
        with self._lock:
            call = self._calls.get(call_id)
            if call is None or not call.incoming or call.state != "ringing":
                return
            assert call.invite is not None and self._transport is not None
            call.rtp = self._new_media(call)
            if call.offer is None:  # late offer: we offer, the ACK answers
                pts = [sdp.BY_NAME[c] for c in self.config.codecs if c in sdp.BY_NAME]
                body = sdp.build(
                    self._transport.host, call.rtp.port, pts, 101, version=call.sdp_version
                )
            else:
                pt = sdp.choose_codec(call.offer, list(self.config.codecs))
                assert pt is not None
                call.payload_type = pt
                if call.offer.secure:
                    remote = next(c for c in map(parse_crypto, call.offer.crypto) if c)
                    local = new_crypto(remote.tag)
                    call.local_crypto = local.attribute()
                    call.rtp.srtp = SrtpContext(local, remote)
                call.rtp.start((call.offer.address, call.offer.port), pt, call.offer.dtmf_pt)
                body = sdp.build(
                    self._transport.host,
                    call.rtp.port,
                    [pt],
                    call.offer.dtmf_pt,  # a dynamic payload type keeps the offer's number
                    sdp.REVERSE.get(call.offer.direction, "sendrecv"),
                    version=call.sdp_version,
                    crypto=call.local_crypto,
                )
            call.state = "answering"
            data = self._reply(
                call.invite,
                call.invite_source,
                200,
                "OK",
                to_tag=call.local_tag,
                extra={"contact": self._contact, "allow": ALLOW},
                body=body,
                content_type="application/sdp",
            )
            call.last_response = data
            self._retransmit_final(call, data, self._reply_address(call.invite, call.invite_source))

    def _retransmit_final(
        self,
        call: Call,
        data: bytes,
        dest: tuple[str, int],
        interval: float | None = None,
        started: float | None = None,
    ) -> None:
        """RFC 3261 §13.3.1.4: a 2xx to INVITE is repeated until the ACK comes."""
        assert self._timers is not None
        interval = interval or self.config.t1
        started = started or time.monotonic()
        call.final_data, call.final_dest = data, dest

        def again() -> None:
            with self._lock:
                if call.final_data is not data or call.state == "ended":
                    return
                if time.monotonic() - started > self.config.request_timeout:
                    call.final_data = b""
                    if call.state == "answering":  # no ACK: the caller is gone
                        self._send_bye(call)
                        self._end(call, EndReason.FAILED)
                    return
                self._send(data, dest)
                self._retransmit_final(call, data, dest, min(interval * 2, 4.0), started)

        call.final_timer = self._timers.call_later(interval, again)

    def _on_ack(self, req: SipMessage, source: tuple[str, int], arrival: float) -> None:
        call = self._calls.get(req.call_id)
        if call is None:
            return
        call.final_data = b""
        if call.final_timer:
            call.final_timer.cancel()
        if call.state == "answering":
            if call.offer is None and not self._take_late_answer(call, req):
                return
            call.state = "confirmed"
            self._emit(LineEventKind.ANSWERED, call)

    def _take_late_answer(self, call: Call, ack: SipMessage) -> bool:
        """The ACK of a late-offer call carries the answer: start the media, or hang up."""
        try:
            answer = sdp.parse(ack.body)
        except sdp.SdpError:
            answer = None
        pt = sdp.answered_codec(answer, list(self.config.codecs)) if answer else None
        if answer is None or pt is None or call.rtp is None:
            self._send_bye(call)
            self._end(call, EndReason.FAILED)
            return False
        call.offer = answer
        call.payload_type = pt
        call.rtp.start((answer.address, answer.port), pt, answer.dtmf_pt)
        return True

    def _on_cancel(self, req: SipMessage, source: tuple[str, int], arrival: float) -> None:
        call = self._calls.get(req.call_id)
        if call is None or not call.incoming:
            self._reply(req, source, 481, "Call/Transaction Does Not Exist")
            return
        self._reply(req, source, 200, "OK", to_tag=call.local_tag)
        if call.state != "ringing" or call.invite is None:
            return  # answered already: the CANCEL changes nothing (RFC 3261 §9.2)
        call.last_response = self._reply(
            call.invite, call.invite_source, 487, "Request Terminated", to_tag=call.local_tag
        )
        reason = req.get("reason").lower()
        elsewhere = "cause=200" in reason.replace(" ", "") or "completed elsewhere" in reason
        self._end(call, EndReason.ANSWERED_ELSEWHERE if elsewhere else EndReason.CALLER_GAVE_UP)

    def reject(self, call_id: str) -> None:
        with self._lock:
            call = self._calls.get(call_id)
            if call is None or not call.incoming or call.state != "ringing":
                return
            assert call.invite is not None
            call.last_response = self._reply(
                call.invite, call.invite_source, 486, "Busy Here", to_tag=call.local_tag
            )
            self._end(call, EndReason.REJECTED)
