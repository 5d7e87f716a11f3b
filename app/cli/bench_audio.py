"""``sasdesk bench audio``: call audio quality of the desk line beside a PJSIP anchor.

A French reference speech file (resources/audio/reference_fr.wav) is played by SIPp
callers through Kamailio, with the network impairment written into the caller's own RTP
stream (jitter, loss, reordering; fixed seed), to the desk line and, at the same time and
with the identical stream, to a PJSUA2 callee. Per profile: PESQ MOS-LQO (narrowband) of
what the desk's earpiece played and of its recording, the playout delay the desk adds,
underruns, and PESQ of what PJSIP played.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from telephony.audio.impair import PROFILES


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "audio",
        help="qualité audio (PESQ) du poste et d'une ancre PJSIP sous pertes et gigue",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--profiles",
        default=",".join(PROFILES),
        help=f"profils réseau, séparés par des virgules (défaut : {','.join(PROFILES)})",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=0.0,
        help="ne joue que le début de la parole de référence (défaut : tout, 10,4 s)",
    )
    parser.add_argument("--seed", type=int, default=2026, help="graine des profils (défaut 2026)")
    parser.add_argument(
        "--reference", type=Path, default=None, help="autre fichier WAV 8 kHz mono 16 bits"
    )
    parser.add_argument("--json", action="store_true", help="sortie JSON seule")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from app.bench.audio import run_bench
    from telephony.audio.quality import REFERENCE

    names = [p.strip() for p in args.profiles.split(",") if p.strip()]
    unknown = [n for n in names if n not in PROFILES]
    if unknown or not names:
        raise SystemExit(
            f"profil inconnu : {', '.join(unknown) or '(aucun)'} ; connus : {', '.join(PROFILES)}"
        )
    result = run_bench(names, args.seconds, args.seed, args.reference or REFERENCE)
    if args.json:
        print(json.dumps(result, sort_keys=True))
        return 0
    for r in result["profiles"]:
        d, a = r["desk"], r["anchor"]
        print(
            f"{r['profile']:>15}  poste {d['mos_headset']}  enregistrement {d.get('mos_recording')}"
            f"  ancre PJSIP {a['mos']}  délai ajouté {d.get('added_delay_ms')} ms"
            f"  sous-alimentations {d['underruns']}"
        )
    print(json.dumps(result["targets"]))
    return 0
