"""The PJSIP anchor of ``sasdesk bench audio``: a PJSUA2 callee in its own process.

It registers with the room's proxy, answers every call, and records what its media
stack plays (after PJSIP's own adaptive jitter buffer and loss concealment, default
settings) to one WAV per call through the null sound device and an
``AudioMediaRecorder``. One JSON line per event on stdout; stops on SIGTERM or when
stdin closes.

    python -m telephony.audio.anchor --server H --port P --user U --password W --out DIR
"""

from __future__ import annotations

import argparse
import json
import select
import signal
import sys
from pathlib import Path
from typing import Any


def say(**event: object) -> None:
    print(json.dumps(event), flush=True)


def _options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--domain", default="sas.local")
    parser.add_argument("--out", type=Path, required=True)
    return parser.parse_args(argv)


def _endpoint(pj: Any) -> Any:
    """PJSUA2 started for the bench: callbacks on this thread, 8 kHz mono, no VAD nor
    echo canceller, UDP on 127.0.0.1, no sound device, G.711 A-law first."""
    ep = pj.Endpoint()
    ep.libCreate()
    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0  # every callback on this (Python) thread
    cfg.uaConfig.mainThreadOnly = True
    cfg.logConfig.level = 1
    cfg.logConfig.consoleLevel = 1
    cfg.medConfig.clockRate = 8000
    cfg.medConfig.sndClockRate = 8000
    cfg.medConfig.channelCount = 1
    cfg.medConfig.noVad = True
    cfg.medConfig.ecTailLen = 0
    ep.libInit(cfg)
    tcfg = pj.TransportConfig()
    tcfg.port = 0
    tcfg.boundAddress = "127.0.0.1"
    ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
    ep.libStart()
    ep.audDevManager().setNullDev()
    ep.codecSetPriority("PCMA/8000", 255)
    return ep


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915 - one PJSUA2 set-up
    args = _options(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    import pjsua2 as pj

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)

    ep = _endpoint(pj)

    calls: dict[int, Any] = {}
    count = [0]

    class AnchorCall(pj.Call):
        def __init__(self, acc: Any, call_id: int) -> None:
            super().__init__(acc, call_id)
            self.recorder: Any = None
            self.path = ""

        def onCallMediaState(self, prm: Any) -> None:  # noqa: N802 - PJSUA2's name
            info = self.getInfo()
            for media in info.media:
                if (
                    media.type == pj.PJMEDIA_TYPE_AUDIO
                    and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE
                    and self.recorder is None
                ):
                    count[0] += 1
                    self.path = str(args.out / f"anchor-{count[0]:03d}.wav")
                    self.recorder = pj.AudioMediaRecorder()
                    self.recorder.createRecorder(self.path)
                    self.getAudioMedia(media.index).startTransmit(self.recorder)
                    say(event="recording", call=info.callIdString, path=self.path)

        def onCallState(self, prm: Any) -> None:  # noqa: N802
            info = self.getInfo()
            if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
                stat = ""
                try:
                    stat = self.dump(True, "")
                except Exception:  # the stream may be gone already
                    stat = ""
                self.recorder = None  # closes the WAV file
                say(event="ended", call=info.callIdString, path=self.path, stat=stat[-4000:])
                calls.pop(info.id, None)

    class AnchorAccount(pj.Account):
        def onRegState(self, prm: Any) -> None:  # noqa: N802
            info = self.getInfo()
            say(event="registration", active=bool(info.regIsActive), code=int(prm.code))

        def onIncomingCall(self, prm: Any) -> None:  # noqa: N802
            call = AnchorCall(self, prm.callId)
            calls[prm.callId] = call
            op = pj.CallOpParam()
            op.statusCode = 200
            call.answer(op)

    acfg = pj.AccountConfig()
    acfg.idUri = f"sip:{args.user}@{args.domain}"
    acfg.regConfig.registrarUri = f"sip:{args.server}:{args.port}"
    acfg.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", args.user, 0, args.password))
    acfg.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
    account = AnchorAccount()
    account.create(acfg)
    try:
        while not stopping:
            ep.libHandleEvents(20)
            ready, _, _ = select.select([sys.stdin], [], [], 0)
            if ready and not sys.stdin.readline():
                break
    finally:
        for call in list(calls.values()):
            call.recorder = None
        calls.clear()
        account.shutdown()
        ep.libDestroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
