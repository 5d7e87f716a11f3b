"""``sasdesk bench audio``: the reference speech through Kamailio to the desk line and to
a PJSIP anchor, under each network profile, scored with PESQ.

For each profile the caller's RTP stream is written once (telephony/audio/impair.py)
and two SIPp callers play the identical file at the same time: one to the desk line
(``arm1``, in this process, a test sound card in place of the headset, recording on),
one to the PJSUA2 anchor (``anchor``, its own process). Measured on the desk: PESQ on
what its earpiece played and on its call recording, the playout delay it adds (time a
sample reached the earpiece minus the time it would have arrived on a network without
jitter), underruns; on the anchor: PESQ on what PJSIP played.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from telephony.audio import g711
from telephony.audio.capture import CapturePort
from telephony.audio.impair import PROFILES, Profile, impaired_packets, stream_facts, write_pcap
from telephony.audio.quality import REFERENCE, align, pesq_mos, read_mono
from telephony.audio.recorder import read_recording
from telephony.audio.rtp import RtpSession
from telephony.kamailio import Desk, KamailioRoom
from telephony.kamailio.room import peer_process_setup
from telephony.kamailio.sipp import Sipp, caller_scenario
from telephony.line import LineEvent, LineEventKind
from telephony.sip import SipConfig, SipLine

DOMAIN = "sas.local"
RATE = 8000


@dataclass
class DeskCall:
    port: CapturePort
    rtp: RtpSession | None = None
    recording: str = ""
    ended: threading.Event = field(default_factory=threading.Event)


class DeskUnderTest:
    """The desk line answering every call, one test sound card per call."""

    def __init__(self, room: KamailioRoom, record_dir: Path) -> None:
        self.calls: list[DeskCall] = []
        self._lock = threading.Lock()
        self.line = SipLine(
            SipConfig(
                server=room.host,
                port=room.port,
                user="arm1",
                password="secret-arm1",
                domain=DOMAIN,
                codecs=("PCMA",),
                record_dir=record_dir,
                audio_factory=self._new_port,
            )
        )
        self.registered = threading.Event()
        self.line.subscribe(self._on_event)

    def _new_port(self) -> CapturePort:
        port = CapturePort()
        with self._lock:
            self.calls.append(DeskCall(port))
        return port

    def _on_event(self, ev: LineEvent) -> None:
        if ev.kind is LineEventKind.REGISTERED:
            self.registered.set()
        elif ev.kind is LineEventKind.RINGING:
            self.line.answer(ev.call_id)
        elif ev.kind is LineEventKind.ANSWERED:
            info = self.line.call_info(ev.call_id)
            with self._lock:
                if info is not None and self.calls:
                    self.calls[-1].rtp = info.rtp
        elif ev.kind is LineEventKind.RECORDING:
            with self._lock:
                if self.calls:
                    self.calls[-1].recording = ev.path
                    self.calls[-1].ended.set()


class Anchor:
    """The PJSUA2 callee process (telephony/audio/anchor.py)."""

    def __init__(self, room: KamailioRoom, out: Path) -> None:
        self.events: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "telephony.audio.anchor",
                "--server",
                room.host,
                "--port",
                str(room.port),
                "--user",
                "anchor",
                "--password",
                "secret-anchor",
                "--domain",
                DOMAIN,
                "--out",
                str(out),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
            preexec_fn=peer_process_setup,  # noqa: PLW1509
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            try:
                event = json.loads(raw)
            except ValueError:
                continue
            with self._cond:
                self.events.append(event)
                self._cond.notify_all()

    def wait(self, kind: str, count: int, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [e for e in self.events if e.get("event") == kind]
                if kind == "registration":
                    found = [e for e in found if e.get("active")]
                if len(found) >= count:
                    return found[count - 1]
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise RuntimeError(f"PJSIP anchor: no {kind} (x{count}); got {self.events}")
                self._cond.wait(min(left, 0.5))

    def stop(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def _desk_figures(call: DeskCall, reference: np.ndarray) -> dict[str, Any]:
    played = call.port.played()
    lag, corr = align(played, reference)
    out: dict[str, Any] = {
        "mos_headset": pesq_mos(reference, played),
        "correlation_headset": round(corr, 4),
    }
    if call.rtp is not None and call.rtp.jitter.floor < float("inf"):
        # the reference's first sample could have been played, at the earliest, when the
        # fastest packet of the stream says it arrived (jitter buffer's floor: arrival
        # minus the packet's place in the stream); the earpiece's clock says when it was
        played_at = call.port.started_at + lag / RATE
        out["added_delay_ms"] = round((played_at - call.rtp.jitter.floor) * 1000, 1)
    stats = call.rtp.playout_stats() if call.rtp is not None else {}
    out["underruns"] = stats.get("underruns", call.port.underruns)
    out.update({k: v for k, v in stats.items() if k not in ("underruns", "delay_ms")})
    if call.recording:
        remote, _desk = read_recording(Path(call.recording))
        out["mos_recording"] = pesq_mos(reference, remote)
    return out


def run_profile(
    profile: Profile,
    reference: np.ndarray,
    room: KamailioRoom,
    desk: DeskUnderTest,
    anchor: Anchor,
    work: Path,
    index: int,
    seed: int,
) -> dict[str, Any]:
    packets = impaired_packets(reference, profile, seed=seed)
    pcap = work / f"{profile.name}.pcap"
    write_pcap(pcap, packets)
    talk_ms = int(len(reference) / RATE * 1000) + int(profile.jitter_ms) + 1200
    runs = [
        Sipp(
            caller_scenario(DOMAIN, caller="0612345678", pcap=pcap, talk_ms=talk_ms),
            proxy=(room.host, room.port),
            service=callee,
            timeout_s=talk_ms / 1000 + 30,
        )
        for callee in ("arm1", "anchor")
    ]
    try:
        for run in runs:
            run.start()
        codes = [run.wait() for run in runs]
        if any(codes):
            raise RuntimeError(
                f"{profile.name}: SIPp failed {codes}: {runs[codes.index(max(codes))].errors}"
            )
        call = desk.calls[index]
        if not call.ended.wait(10):
            raise RuntimeError(f"{profile.name}: the desk's call did not end")
        ended = anchor.wait("ended", index + 1, 10)
    finally:
        for run in runs:
            run.cleanup()
    call.port.close()
    desk_fig = _desk_figures(call, reference)
    anchor_mos = pesq_mos(reference, read_mono(Path(ended["path"]))) if ended.get("path") else None
    out: dict[str, Any] = {
        "profile": profile.name,
        "stream": stream_facts(packets, len(reference) // 160),
        "desk": desk_fig,
        "anchor": {"mos": anchor_mos},
    }
    if desk_fig["mos_headset"] is not None and anchor_mos is not None:
        out["desk_minus_anchor_mos"] = round(desk_fig["mos_headset"] - anchor_mos, 3)
    return out


def run_bench(
    profiles: list[str], seconds: float = 0.0, seed: int = 2026, reference_path: Path = REFERENCE
) -> dict[str, Any]:
    reference = read_mono(reference_path)
    if seconds:
        reference = reference[: int(seconds * RATE)]
    started = time.monotonic()
    room = KamailioRoom(
        [Desk("arm1", "secret-arm1", ""), Desk("anchor", "secret-anchor", "")], domain=DOMAIN
    )
    work = Path(tempfile.mkdtemp(prefix="sasdesk-bench-audio-"))
    room.start()
    desk = DeskUnderTest(room, work / "rec")
    anchor = Anchor(room, work / "anchor")
    results = []
    try:
        desk.line.start()
        if not desk.registered.wait(10):
            raise RuntimeError("the desk line did not register")
        anchor.wait("registration", 1, 15)
        for i, name in enumerate(profiles):
            results.append(
                run_profile(PROFILES[name], reference, room, desk, anchor, work, i, seed)
            )
    finally:
        desk.line.stop()
        anchor.stop()
        room.cleanup()
    return {
        "reference": {
            "file": reference_path.name,
            "seconds": round(len(reference) / RATE, 2),
            "codec": "PCMA",
            "ptime_ms": 20,
            # the codec alone, no network, no buffer: the most any callee can score
            "g711_ceiling": pesq_mos(
                reference, g711.decode(g711.encode(reference, g711.PCMA), g711.PCMA)
            ),
        },
        "seed": seed,
        "profiles": results,
        "targets": _targets(results),
        "wall_s": round(time.monotonic() - started, 1),
        "work_dir": str(work),
    }


def _targets(results: list[dict[str, Any]]) -> dict[str, Any]:
    by = {r["profile"]: r for r in results}
    out: dict[str, Any] = {}
    if "clean" in by:
        mos = by["clean"]["desk"]["mos_headset"]
        out["clean_mos_ge_4"] = mos is not None and mos >= 4.0
    impaired = [r for r in results if r["profile"] != "clean"]
    if impaired:
        out["impaired_within_0_1_of_anchor"] = all(
            r.get("desk_minus_anchor_mos", -9) >= -0.1 for r in impaired
        )
    if "jitter20" in by:
        delay = by["jitter20"]["desk"].get("added_delay_ms")
        out["delay_le_60ms_at_jitter20"] = delay is not None and delay <= 60
    return out
