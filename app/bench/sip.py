"""``sasdesk bench sip``: SIPp callers through Kamailio to auto-answering desk lines.

Everything runs on 127.0.0.1 at free ports: the reference Kamailio configuration, N
desk lines in this process (group n1, answering after a short staggered delay so that
one desk takes each call and the fork cancels the others), and SIPp placing the calls
on 15 with PCMA audio. Prints what was measured:

- calls attempted / answered / failed, as SIPp counts them (a call fails when SIPp does
  not get through its scenario: no answer, an error status, a lost BYE...);
- INVITE-to-app latency: from the INVITE reaching the desk's socket (kernel receive
  timestamp, SO_TIMESTAMPNS) to the RINGING event delivered to the application,
  for every INVITE of every fork branch;
- CPU per active call: CPU time of this process (all desk lines: SIP, RTP, recording
  off) divided by the summed duration of the answered calls, in % of one core.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from telephony.kamailio import Desk
    from telephony.sip import SipLine


@dataclass(frozen=True)
class SipOptions:
    """What ``sasdesk bench sip`` is asked for (its options, by the same names)."""

    calls: int = 300
    rate: float = 5.0
    desks: int = 4
    talk_ms: int = 300
    answer_after: float = 0.05
    no_audio: bool = False


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


@dataclass
class DeskStats:
    latencies: list[float] = field(default_factory=list)
    answered_at: dict[tuple[str, str], float] = field(default_factory=dict)  # (desk, call)
    talk_seconds: float = 0.0
    answered: int = 0
    ended: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class SipBenchError(RuntimeError):
    """The room could not be set up (a desk did not register): nothing was measured."""


def _answering_line(
    host: str,
    port: int,
    desk: Desk,
    domain: str,
    delay: float,
    stats: DeskStats,
    registered: threading.Semaphore,
) -> SipLine:
    """A desk's SIP line, started: it tells its registration, answers every call
    ``delay`` seconds after it rings, and counts into ``stats``."""
    from telephony.line import LineEvent, LineEventKind
    from telephony.sip import SipConfig, SipLine

    line = SipLine(
        SipConfig(
            server=host,
            port=port,
            user=desk.user,
            password=desk.password,
            domain=domain,
        )
    )

    def on_event(event: LineEvent) -> None:
        if event.kind == LineEventKind.REGISTERED:
            registered.release()
        elif event.kind == LineEventKind.RINGING:
            call = line.call_info(event.call_id)
            with stats.lock:
                if call is not None:
                    stats.latencies.append(event.at - call.arrival)
            timer = threading.Timer(delay, line.answer, args=(event.call_id,))
            timer.daemon = True
            timer.start()
        elif event.kind == LineEventKind.ANSWERED:
            with stats.lock:
                stats.answered += 1
                stats.answered_at[(line.config.user, event.call_id)] = event.at
        elif event.kind == LineEventKind.ENDED:
            with stats.lock:
                stats.ended[event.reason] = stats.ended.get(event.reason, 0) + 1
                # a forked call has one Call-ID on every desk: key by desk too
                start = stats.answered_at.pop((line.config.user, event.call_id), None)
                if start is not None:
                    stats.talk_seconds += event.at - start

    line.subscribe(on_event)
    line.start()
    return line


def run_sip_bench(args: SipOptions) -> dict[str, Any]:
    """The calls placed and answered: the figures (``failed`` and ``sipp_exit_code``
    say whether every call went through)."""
    from telephony.kamailio import Desk, KamailioRoom
    from telephony.kamailio.sipp import PCAPS, Sipp, caller_scenario

    domain = "sas.local"
    desks = [Desk(f"bench{i}", f"bench-secret-{i}", "n1") for i in range(args.desks)]
    room = KamailioRoom(desks, domain=domain)
    stats = DeskStats()
    lines: list[SipLine] = []
    room.start()
    sipp = None
    busy = 0
    try:
        registered = threading.Semaphore(0)
        for i, desk in enumerate(desks):
            delay = args.answer_after + 0.05 * i
            lines.append(
                _answering_line(room.host, room.port, desk, domain, delay, stats, registered)
            )
        for _ in desks:
            if not registered.acquire(timeout=10):
                raise SipBenchError("a desk did not register")
        pcap = None if args.no_audio else PCAPS / "g711a.pcap"
        scenario = caller_scenario(domain, pcap=pcap, talk_ms=args.talk_ms, answer_timeout_ms=10000)
        duration_budget = args.calls / args.rate + 60
        sipp = Sipp(
            scenario,
            proxy=(room.host, room.port),
            service="15",
            calls=args.calls,
            rate=args.rate,
            timeout_s=duration_budget,
        )
        cpu0 = os.times()
        wall0 = time.monotonic()
        sipp.start()
        code = sipp.wait(duration_budget + 10)
        time.sleep(0.5)  # the last ENDED events
        wall = time.monotonic() - wall0
        cpu1 = os.times()
        cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
        counts = sipp.counts()
        busy = sum(line.stats["rejected_busy"] for line in lines)
    finally:
        for line in lines:
            line.stop()
        room.cleanup()
        if sipp is not None:
            sipp.cleanup()
    with stats.lock:
        lat_ms = [x * 1000 for x in stats.latencies]
        result = {
            "calls": args.calls,
            "rate": args.rate,
            "desks": args.desks,
            "talk_ms": args.talk_ms,
            "audio": not args.no_audio,
            "attempted": counts.get("attempted"),
            "answered": counts.get("answered"),
            "failed": counts.get("failed"),
            "sipp_exit_code": code,
            "desk_answered": stats.answered,
            "desk_ended": stats.ended,
            "desk_busy_486": busy,
            "invites_presented": len(lat_ms),
            "invite_to_app_latency_ms": {
                "p50": round(percentile(lat_ms, 50), 3),
                "p99": round(percentile(lat_ms, 99), 3),
                "max": round(max(lat_ms), 3) if lat_ms else None,
            },
            "wall_s": round(wall, 2),
            "desk_cpu_s": round(cpu, 3),
            "answered_call_seconds": round(stats.talk_seconds, 2),
            "cpu_per_active_call_percent": (
                round(100 * cpu / stats.talk_seconds, 2) if stats.talk_seconds else None
            ),
        }
    return result
