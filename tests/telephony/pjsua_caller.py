"""A PJSUA2 caller from the trunk (PJSIP's own media stack), for the SRTP test.

    python tests/telephony/pjsua_caller.py --proxy H:P --to sip:15@sas.local \
        --wav speech.wav --seconds 3 [--srtp mandatory|optional|disabled] [--codec PCMA/8000]

Calls through the proxy without registering (a trunk caller is not challenged), plays
the WAV once into the call, hangs up after ``--seconds``. One JSON line per event.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any


def say(**event: object) -> None:
    print(json.dumps(event), flush=True)


def main() -> int:  # noqa: PLR0915 - one PJSUA2 set-up
    parser = argparse.ArgumentParser()
    parser.add_argument("--proxy", required=True)
    parser.add_argument("--to", required=True)
    parser.add_argument("--wav", required=True)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--srtp", default="mandatory")
    parser.add_argument("--codec", default="PCMA/8000")
    args = parser.parse_args()

    import pjsua2 as pj

    ep = pj.Endpoint()
    ep.libCreate()
    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0
    cfg.uaConfig.mainThreadOnly = True
    cfg.logConfig.level = 1
    cfg.logConfig.consoleLevel = int(__import__("os").environ.get("PJ_LOG", "1"))
    cfg.medConfig.clockRate = 8000
    cfg.medConfig.sndClockRate = 8000
    cfg.medConfig.noVad = True
    cfg.medConfig.ecTailLen = 0
    ep.libInit(cfg)
    tcfg = pj.TransportConfig()
    tcfg.boundAddress = "127.0.0.1"
    ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
    ep.libStart()
    ep.audDevManager().setNullDev()
    for codec in ep.codecEnum2():
        ep.codecSetPriority(codec.codecId, 255 if codec.codecId.startswith(args.codec) else 0)

    state: dict[str, Any] = {"confirmed": None, "done": False, "player": None}

    class Caller(pj.Call):
        def onCallMediaState(self, prm: Any) -> None:  # noqa: N802 - PJSUA2's name
            try:
                self._media()
            except Exception as exc:  # PJSUA2 swallows a callback's exception
                say(event="error", error=repr(exc))

        def _media(self) -> None:
            info = self.getInfo()  # kept: its media vector dies with it (SWIG)
            for media in info.media:
                if (
                    media.type == pj.PJMEDIA_TYPE_AUDIO
                    and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE
                    and state["player"] is None
                ):
                    player = pj.AudioMediaPlayer()
                    player.createPlayer(args.wav, pj.PJMEDIA_FILE_NO_LOOP)
                    player.startTransmit(self.getAudioMedia(media.index))
                    state["player"] = player
                    si = self.getStreamInfo(media.index)
                    say(event="media", codec=si.codecName, transport=str(si.proto))

        def onCallState(self, prm: Any) -> None:  # noqa: N802
            info = self.getInfo()
            if info.state == pj.PJSIP_INV_STATE_CONFIRMED and state["confirmed"] is None:
                state["confirmed"] = time.monotonic()
                say(event="confirmed")
            elif info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
                say(event="disconnected", code=int(info.lastStatusCode), reason=info.lastReason)
                state["done"] = True

    acfg = pj.AccountConfig()
    acfg.idUri = "sip:0612345678@sas.local"
    acfg.sipConfig.proxies.append(f"sip:{args.proxy};lr")
    acfg.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
    acfg.mediaConfig.srtpUse = {
        "mandatory": pj.PJMEDIA_SRTP_MANDATORY,
        "optional": pj.PJMEDIA_SRTP_OPTIONAL,
        "disabled": pj.PJMEDIA_SRTP_DISABLED,
    }[args.srtp]
    acfg.mediaConfig.srtpSecureSignaling = 0  # SDES keys over this test's plain UDP SIP
    account = pj.Account()
    account.create(acfg)
    call = Caller(account)
    call.makeCall(args.to, pj.CallOpParam(True))
    deadline = time.monotonic() + 20 + args.seconds
    try:
        while not state["done"] and time.monotonic() < deadline:
            ep.libHandleEvents(20)
            confirmed = state["confirmed"]
            if confirmed is not None and state["player"] is None:
                call.onCallMediaState(None)  # also polled: the callback may come late
            if confirmed is not None and time.monotonic() - confirmed > args.seconds:
                call.hangup(pj.CallOpParam())
                state["confirmed"] = float("inf")
    finally:
        state["player"] = None
        ep.hangupAllCalls()
        for _ in range(20):
            ep.libHandleEvents(20)
        account.shutdown()
        ep.libDestroy()
    return 0 if state["done"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
