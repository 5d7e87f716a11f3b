"""Registration: digest auth, refresh at the granted expiry, loss and recovery."""

from __future__ import annotations

import logging
from collections.abc import Callable

from telephony.line import LineEventKind
from telephony.sip.agent import Registration, RegistrationState
from telephony.sip.digest import authorization, parse_challenge
from telephony.sip.message import (
    SipMessage,
    SipParseError,
    parse_name_addr,
    parse_uri,
)
from telephony.sip.useragent import ALLOW, USER_AGENT, UserAgent

log = logging.getLogger(__name__)


class RegistrationMixin(UserAgent):
    def _set_registration(
        self, state: RegistrationState, expires: int = 0, detail: str = "", refreshed: bool = False
    ) -> None:
        old = self._registration
        self._registration = Registration(
            state, expires or old.expires, old.refreshes + (1 if refreshed else 0), detail
        )
        if state is old.state and state is not RegistrationState.RETRYING:
            return
        kind = {
            RegistrationState.REGISTERED: LineEventKind.REGISTERED,
            RegistrationState.LOST: LineEventKind.REGISTRATION_LOST,
            RegistrationState.RETRYING: LineEventKind.REGISTRATION_RETRYING,
            RegistrationState.FAILED: LineEventKind.REGISTRATION_FAILED,
        }.get(state)
        if kind is not None:
            self._emit(kind, reason=detail)

    def _register(
        self,
        expires: int | None = None,
        challenge: SipMessage | None = None,
        on_done: Callable[[], None] | None = None,
    ) -> None:
        cfg = self.config
        expires = cfg.expires if expires is None else expires
        self._reg_cseq += 1
        aor = f"sip:{cfg.user}@{cfg.sip_domain}"
        req = SipMessage(method="REGISTER", uri=f"sip:{cfg.sip_domain}")
        req.add("via", self._via(self._branch()))
        req.add("max-forwards", "70")
        req.add("from", f"<{aor}>;tag={self._reg_tag}")
        req.add("to", f"<{aor}>")
        req.add("call-id", self._reg_call_id)
        req.add("cseq", f"{self._reg_cseq} REGISTER")
        req.add("contact", f"{self._contact};expires={expires}")
        req.add("expires", str(expires))
        req.add("allow", ALLOW)
        req.add("user-agent", USER_AGENT)
        if challenge is not None:
            header = "www-authenticate" if challenge.status == 401 else "proxy-authenticate"
            answer = "authorization" if challenge.status == 401 else "proxy-authorization"
            try:
                req.add(
                    answer,
                    authorization(
                        parse_challenge(challenge.get(header)),
                        "REGISTER",
                        req.uri,
                        cfg.user,
                        cfg.password,
                    ),
                )
            except ValueError as exc:
                self._set_registration(RegistrationState.FAILED, detail=str(exc))
                return

        def on_response(resp: SipMessage) -> None:
            self._on_register_response(resp, expires, on_done)

        def on_timeout() -> None:
            if on_done:
                on_done()
                return
            self._registration_down("no answer from the registrar")

        self._request(req, self._proxy, on_response, on_timeout)

    def _on_register_response(
        self, resp: SipMessage, expires: int, on_done: Callable[[], None] | None
    ) -> None:
        if resp.status < 200:
            return
        if resp.status in (401, 407):
            header = "www-authenticate" if resp.status == 401 else "proxy-authenticate"
            stale = parse_challenge(resp.get(header)).get("stale", "").lower() == "true"
            if self._reg_auth_tried and not stale:
                self._reg_auth_tried = False
                if on_done:
                    on_done()
                    return
                self._set_registration(
                    RegistrationState.FAILED, detail=f"{resp.status} credentials refused"
                )
                return
            self._reg_auth_tried = True
            self.stats["challenges"] += 1
            self._register(expires, challenge=resp, on_done=on_done)
            return
        self._reg_auth_tried = False
        if on_done:
            on_done()
            return
        if 200 <= resp.status < 300:
            boot = resp.get("x-sas-boot")
            if (
                boot
                and self._proxy_boot
                and boot != self._proxy_boot
                and self._registration.state is RegistrationState.REGISTERED
            ):
                # A refresh answered by a restarted proxy: it had lost this desk until
                # now (calls did not reach it). Said, so the desk knows when it is back.
                self._set_registration(RegistrationState.LOST, detail="the proxy restarted")
            self._proxy_boot = boot or self._proxy_boot
            granted = self._granted_expires(resp, expires)
            self._reg_backoff = self.config.retry_min
            self._set_registration(
                RegistrationState.REGISTERED, granted, detail=f"expires={granted}", refreshed=True
            )
            refresh = granted * 0.5 if granted <= 60 else granted - 30
            assert self._timers is not None
            if self._reg_timer:
                self._reg_timer.cancel()
            self._reg_timer = self._timers.call_later(max(0.5, refresh), self._refresh)
            self._schedule_keepalive()
        elif resp.status in (403, 404):
            self._set_registration(RegistrationState.FAILED, detail=f"{resp.status} {resp.reason}")
        else:
            self._registration_down(f"{resp.status} {resp.reason}")

    def _granted_expires(self, resp: SipMessage, asked: int) -> int:
        t = self._transport
        assert t is not None
        for contact in resp.get_all("contact"):
            na = parse_name_addr(contact)
            try:
                uri = parse_uri(na.uri)
            except SipParseError:
                continue
            if uri.host == t.host and (uri.port or 5060) == t.port and "expires" in na.params:
                try:
                    return int(na.params["expires"])
                except ValueError:
                    pass
        try:
            return int(resp.get("expires") or asked)
        except ValueError:
            return asked

    def _refresh(self) -> None:
        with self._lock:
            if not self._stopping:
                self._register()

    def _registration_down(self, detail: str) -> None:
        if self._stopping:
            return
        if self._registration.state is RegistrationState.REGISTERED:
            self._set_registration(RegistrationState.LOST, detail=detail)
        for timer in (self._reg_timer, self._keepalive_timer):
            if timer:
                timer.cancel()
        delay = self._reg_backoff
        self._reg_backoff = min(self.config.retry_max, self._reg_backoff * 2)
        self._set_registration(RegistrationState.RETRYING, detail=f"retry in {delay:g}s: {detail}")
        assert self._timers is not None
        self._reg_timer = self._timers.call_later(delay, self._refresh)

    # -- keep-alive: notice a dead or restarted proxy between two refreshes ---------------

    def _schedule_keepalive(self) -> None:
        if self.config.keepalive <= 0 or self._timers is None:
            return
        if self._keepalive_timer:
            self._keepalive_timer.cancel()
        self._keepalive_timer = self._timers.call_later(self.config.keepalive, self._keepalive)

    def _keepalive(self) -> None:
        with self._lock:
            if self._stopping or self._registration.state is not RegistrationState.REGISTERED:
                return
            cfg = self.config
            req = SipMessage(method="OPTIONS", uri=f"sip:{cfg.sip_domain}")
            req.add("via", self._via(self._branch()))
            req.add("max-forwards", "70")
            req.add("from", f"<sip:{cfg.user}@{cfg.sip_domain}>;tag={self._reg_tag}")
            req.add("to", f"<sip:{cfg.sip_domain}>")
            req.add("call-id", f"ka-{self._reg_call_id}")
            self._reg_cseq += 1
            req.add("cseq", f"{self._reg_cseq} OPTIONS")
            req.add("user-agent", USER_AGENT)
            self._request(
                req,
                self._proxy,
                self._on_keepalive_response,
                lambda: self._registration_down("the proxy does not answer"),
            )

    def _on_keepalive_response(self, resp: SipMessage) -> None:
        if resp.status < 200 or self._registration.state is not RegistrationState.REGISTERED:
            return
        boot = resp.get("x-sas-boot")
        if boot and self._proxy_boot and boot != self._proxy_boot:
            # the proxy restarted and forgot its in-memory registrations: ours too
            self._proxy_boot = boot
            self._set_registration(RegistrationState.LOST, detail="the proxy restarted")
            self._register()
            return
        self._proxy_boot = boot or self._proxy_boot
        self._schedule_keepalive()
