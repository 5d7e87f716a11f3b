"""A desk process the tests kill -9: mid-upload, or mid-call while recording.

``python -m tests.recordings.killed_desk upload URL JOURNAL CALL_REF WAV``
``python -m tests.recordings.killed_desk call URL JOURNAL CALL_REF RECORD_DIR``
``python -m tests.recordings.killed_desk placed URL JOURNAL CALL_REF WAV DOSSIER_ID``
(the MRL's desk, uploading a call it placed from the slot search about the dossier)
``python -m tests.recordings.killed_desk placed-call URL JOURNAL CALL_REF RECORD_DIR DOSSIER_ID``
(the MRL's desk in that call, recording, as it is killed)
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import numpy as np

from app.client.recordings import RecordingUploader
from telephony.audio.recorder import CallRecorder, recording_path
from telephony.line import LineEvent, LineEventKind
from tests.recordings.helpers import logged


async def main(mode: str, url: str, journal: str, call_ref: str, target: str, *rest: str) -> None:
    client = await logged(url, "mrl" if mode.startswith("placed") else "n1")
    if mode == "placed":
        uploader = RecordingUploader(client, Path(journal), Path(target).parent)
        placed = {"dossier_id": int(rest[0]), "number": "0546123456", "callee": "Dr Vasseur"}
        uploader.journal.put(call_ref, path=target, direction="out", placed=placed)
        print("uploading", flush=True)
        await uploader.upload(call_ref, Path(target), outgoing=True, placed=placed)
        print("done", flush=True)
        return
    if mode == "upload":
        uploader = RecordingUploader(client, Path(journal), Path(target).parent)
        uploader.journal.put(call_ref, path=target)
        print("uploading", flush=True)
        await uploader.upload(call_ref, Path(target))
        print("done", flush=True)
        return
    record_dir = Path(target)
    uploader = RecordingUploader(client, Path(journal), record_dir)
    if mode == "placed-call":  # F7 from the search: dialled, announced, answered
        uploader.on_line_event(LineEvent(LineEventKind.DIALING, call_id=call_ref))
        uploader.note_placed(
            call_ref, dossier_id=int(rest[0]), number="0546123456", callee="Dr Vasseur"
        )
    else:
        uploader.on_line_event(LineEvent(LineEventKind.RINGING, call_id=call_ref, line="15"))
    uploader.on_line_event(LineEvent(LineEventKind.ANSWERED, call_id=call_ref))
    recorder = CallRecorder(recording_path(record_dir, call_ref))
    tone = (np.sin(np.arange(160) * 2 * np.pi / 16) * 8000).astype("<i2")
    for n in range(100_000):  # 20 ms frames until killed
        recorder.tx(tone)
        recorder.rx(1234, n * 160, tone)
        if n == 150:  # three seconds recorded and flushed to the raw files
            recorder._tx.flush()
            recorder._rx.flush()
            print("recording", flush=True)
        await asyncio.sleep(0.001)  # pacing: frames keep coming until the kill


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
