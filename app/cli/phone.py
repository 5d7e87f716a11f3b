"""``sasdesk phone``: a headless desk line for operations and tests, one JSON line per event."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import IO


def add_sip_security(options: argparse._ActionsContainer) -> None:
    """How a line reaches the room's proxy: --sip-transport, --sip-ca-file, --sip-srtp
    (``sasdesk phone`` and ``sasdesk desk`` take the same ones)."""
    options.add_argument(
        "--sip-transport",
        choices=("udp", "tls"),
        default="udp",
        help="transport vers le proxy : udp (défaut) ou tls (certificat du proxy vérifié)",
    )
    options.add_argument(
        "--sip-ca-file",
        type=Path,
        default=None,
        metavar="FICHIER.pem",
        help="tls : autorité qui signe le certificat du proxy (défaut : magasin du système)",
    )
    options.add_argument(
        "--sip-srtp",
        choices=("offered", "required"),
        default="offered",
        help="médias chiffrés (SRTP, clés SDES) : offered (défaut) les accepte quand "
        "l'appel les propose ; required refuse tout appel en clair",
    )


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "phone",
        help="ligne SIP sans interface (exploitation, essais) : un événement JSON par ligne",
        description="Enregistre une ligne de poste auprès du proxy SIP de la salle et écrit "
        "chaque événement (enregistrement, sonnerie avec ligne et appelant, "
        "décroché, DTMF, attente, transfert, fin avec motif, fichier "
        "d'enregistrement) en JSON, une ligne par événement, sur la sortie "
        "standard et dans --events. Ctrl+C pour arrêter.",
    )
    parser.add_argument("--server", required=True, metavar="HÔTE", help="proxy SIP (Kamailio)")
    parser.add_argument("--port", type=int, default=5060, help="port du proxy (défaut 5060)")
    parser.add_argument("--user", required=True, help="identifiant SIP du poste")
    parser.add_argument("--password", required=True, help="mot de passe SIP du poste")
    parser.add_argument("--domain", default="", help="domaine SIP (défaut : --server)")
    parser.add_argument(
        "--sip-port",
        type=int,
        default=0,
        metavar="N",
        help="port SIP local (défaut : un port libre)",
    )
    add_sip_security(parser)
    parser.add_argument(
        "--bind", default="127.0.0.1", metavar="ADRESSE", help="adresse locale (défaut 127.0.0.1)"
    )
    parser.add_argument(
        "--auto-answer",
        type=float,
        default=None,
        metavar="SECONDES",
        help="décroche chaque appel après ce délai",
    )
    parser.add_argument(
        "--record",
        type=Path,
        default=None,
        metavar="DOSSIER",
        help="enregistre chaque appel (WAV stéréo : appelant, poste)",
    )
    parser.add_argument(
        "--retention-days",
        type=float,
        default=0,
        metavar="JOURS",
        help="supprime les enregistrements plus anciens (défaut 0 : garde tout)",
    )
    parser.add_argument(
        "--events",
        type=Path,
        default=None,
        metavar="FICHIER.jsonl",
        help="ajoute aussi les événements à ce fichier",
    )
    parser.add_argument(
        "--headset",
        action="store_true",
        help="utilise le casque (PortAudio) ; sinon périphérique nul",
    )
    parser.add_argument(
        "--paused",
        default=None,
        metavar="MOTIF",
        help="démarre en pause (les appels sont refusés, 486)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="SECONDES",
        help="s'arrête seul après ce délai",
    )
    parser.set_defaults(run=run)


class JsonlSink:
    def __init__(self, outputs: list[IO[str]]) -> None:
        self._outputs = outputs
        self._lock = threading.Lock()

    def write(self, data: dict[str, object]) -> None:
        text = json.dumps(data, ensure_ascii=False, sort_keys=True)
        with self._lock:
            for out in self._outputs:
                out.write(text + "\n")
                out.flush()


def run(args: argparse.Namespace) -> int:
    from telephony.audio.recorder import purge_recordings
    from telephony.line import LineEvent, LineEventKind
    from telephony.sip import SipConfig, SipLine

    if args.sip_ca_file is not None and not args.sip_ca_file.is_file():
        print(f"sasdesk phone : fichier CA introuvable : {args.sip_ca_file}", file=sys.stderr)
        return 2
    config = SipConfig(
        transport=args.sip_transport,
        tls_ca_file=args.sip_ca_file,
        srtp=args.sip_srtp,
        server=args.server,
        port=args.port,
        user=args.user,
        password=args.password,
        domain=args.domain,
        local_host=args.bind,
        sip_port=args.sip_port,
        record_dir=args.record,
        use_headset=args.headset,
    )
    line = SipLine(config)
    events_file = args.events.open("a", encoding="utf8") if args.events else None
    sink = JsonlSink([sys.stdout] + ([events_file] if events_file else []))
    done = threading.Event()
    status = {"code": 0}

    def on_event(event: LineEvent) -> None:
        sink.write(event.as_json())
        if event.kind == LineEventKind.RINGING and args.auto_answer is not None:
            timer = threading.Timer(args.auto_answer, line.answer, args=(event.call_id,))
            timer.daemon = True
            timer.start()
        elif event.kind == LineEventKind.RECORDING and args.record and args.retention_days:
            for path in purge_recordings(args.record, args.retention_days):
                sink.write({"kind": "recording_purged", "path": str(path)})
        elif event.kind == LineEventKind.REGISTRATION_FAILED:
            status["code"] = 2
            done.set()

    line.subscribe(on_event)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    if args.paused:
        line.pause(args.paused)
    if args.record and args.retention_days:
        for path in purge_recordings(args.record, args.retention_days):
            sink.write({"kind": "recording_purged", "path": str(path)})
    line.start()
    try:
        done.wait(args.duration)
    finally:
        line.stop()
        sink.write({"kind": "stopped", "stats": line.stats})
        if events_file:
            events_file.close()
    return status["code"]


if __name__ == "__main__":
    _parser = argparse.ArgumentParser(prog="sasdesk")
    add_parser(_parser.add_subparsers(dest="command", required=True))
    _args = _parser.parse_args()
    sys.exit(_args.run(_args))
