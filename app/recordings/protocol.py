"""The recordings' intents as the desk sends them: a call's WAV declared and uploaded in
chunks, a dossier's recordings listed and played. No database and no hub code: a desk that
imports this loads neither."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Annotated, ClassVar, Literal, NotRequired

from pydantic import Field, StringConstraints
from typing_extensions import TypedDict

from app.domain.permissions import Action, roles_for
from app.hub.events import EventName
from app.hub.payloads import CallView
from app.hub.protocol import EntityId, Intent, IntentName, Phone, Short

#: A 4-hour stereo 8 kHz call is 460 MB; anything above this is not a call recording.
MAX_RECORDING_BYTES = 1024 * 1024 * 1024


def file_sha256(path: Path) -> str:
    """The digest a declared recording's ``sha256`` carries (the desk's and the store's)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Kind:
    """What a recording is of (the wire's ``kind``)."""

    INCOMING = "incoming"  # a call on 15 / 116 117 answered by a desk
    CALLBACK = "callback"  # the OSNP's call-back call, noted by an attempt
    PLACED = "placed"  # a doctor phoned from the slot search (F7)


#: Who plays a dossier's recording from the desk.
LISTENERS = roles_for(Action.LISTEN_RECORDINGS)


Offset = Annotated[int, Field(ge=0, le=MAX_RECORDING_BYTES)]


class RecordingList(Intent, name=IntentName.RECORDING_LIST):
    """The dossier's recordings, for the listener to choose one (audited as a read)."""

    dossier_id: EntityId
    read_only: ClassVar[bool] = True


class RecordingOpen(Intent, name=IntentName.RECORDING_OPEN):
    dossier_id: EntityId
    #: One of the dossier's recordings (``recording.list``); none: the incoming call's.
    recording_id: EntityId | None = None


class RecordingRead(Intent, name=IntentName.RECORDING_READ):
    dossier_id: EntityId
    recording_id: EntityId | None = None
    offset: Offset = 0
    read_only: ClassVar[bool] = True


#: Raw bytes per uploaded chunk: base64 keeps the message under the 64 KiB intent limit.
CHUNK_BYTES = 32 * 1024


CallRef = Annotated[str, StringConstraints(min_length=1, max_length=255)]


Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class CallRecording(Intent, name=IntentName.CALL_RECORDING):
    """The WAV of a call this desk answered is complete: declare it, learn the offset."""

    call_ref: CallRef
    size: Annotated[int, Field(gt=44, le=MAX_RECORDING_BYTES)]  # a WAV header and more
    sha256: Sha256


class OutgoingRecording(Intent, name=IntentName.RECORDING_OUTGOING):
    """The WAV of an outgoing call-back call this desk made, noted by its attempt
    (``callback.attempt`` with this ``call_ref``): declared like ``call.recording``."""

    call_ref: CallRef
    size: Annotated[int, Field(gt=44, le=MAX_RECORDING_BYTES)]
    sha256: Sha256


class RecordingPlaced(Intent, name=IntentName.RECORDING_PLACED):
    """The WAV of a call this desk placed from the slot search (F7: a doctor phoned from
    the results), about the dossier in hand: declared like ``call.recording``, with what
    only the desk knows of that call (no other row has it)."""

    call_ref: CallRef
    size: Annotated[int, Field(gt=44, le=MAX_RECORDING_BYTES)]
    sha256: Sha256
    dossier_id: EntityId | None = None  # None: placed with no dossier in hand
    number: Phone = ""
    callee: Short = ""  # the doctor as the search results named them
    answered_at: datetime | None = None  # the desk's clock; never after the hub's now


Declared = CallRecording | OutgoingRecording | RecordingPlaced


class RecordingChunk(Intent, name=IntentName.RECORDING_CHUNK):
    call_ref: CallRef
    offset: Offset
    data: Annotated[str, StringConstraints(min_length=1, max_length=48 * 1024)]  # base64
    read_only: ClassVar[bool] = True  # file work beside the writer; no row changes


class RecordingCommit(Intent, name=IntentName.RECORDING_COMMIT):
    call_ref: CallRef


#: What this protocol adds to the wire (registered by the hub's extension and the desk).
INTENTS: tuple[type[Intent], ...] = (
    RecordingList,
    RecordingOpen,
    RecordingRead,
    CallRecording,
    OutgoingRecording,
    RecordingPlaced,
    RecordingChunk,
    RecordingCommit,
)


# What the hub answers and broadcasts about recordings (app.recordings.hub, .playback).


class UploadState(TypedDict):
    """``call.recording``, ``recording.outgoing``, ``recording.placed``,
    ``recording.chunk``, ``recording.commit``: where the upload stands. Stored: its
    digest and size, and what it was attached to (the call, the recording, the
    call-back attempt)."""

    call_ref: str
    received: NotRequired[int]
    state: NotRequired[Literal["uploading", "stored"]]
    chunk_bytes: NotRequired[int]
    sha256: NotRequired[str]
    size: NotRequired[int]
    call: NotRequired[CallView]
    recording_id: NotRequired[int]
    attempt_id: NotRequired[int]


class RecordingRow(TypedDict):
    id: int
    kind: str
    at: str | None
    line: str
    number: str
    callee: str
    by: str
    seconds: float | None
    size: int
    sha256: str


class RecordingListReply(TypedDict):
    dossier_id: int
    recordings: list[RecordingRow]


class RecordingView(TypedDict):
    id: int
    call_id: int | None
    attempt_id: int | None
    placed_ref: str | None
    dossier_id: int | None
    size: int
    sha256: str
    state: str
    stored_at: str | None


class RecordingOpenReply(TypedDict):
    recording: RecordingView
    chunk_bytes: int


class RecordingReadReply(TypedDict):
    dossier_id: int
    recording_id: int
    offset: int
    data: str  # base64
    size: int
    eof: bool


class CallRecordedData(TypedDict):
    """A recording stored: an answered call's, a placed call's (``call_ref``, ``number``,
    ``callee``) or a call-back attempt's (``attempt_id``, ``call_ref``)."""

    sha256: str
    size: int
    call_ref: NotRequired[str | None]
    number: NotRequired[str | None]
    callee: NotRequired[str | None]
    attempt_id: NotRequired[int]


class RecordingOpenedData(TypedDict):
    recording_id: int
    kind: str
    callee: str | None


REPLIES: dict[IntentName, type] = {
    IntentName.CALL_RECORDING: UploadState,
    IntentName.RECORDING_OUTGOING: UploadState,
    IntentName.RECORDING_PLACED: UploadState,
    IntentName.RECORDING_CHUNK: UploadState,
    IntentName.RECORDING_COMMIT: UploadState,
    IntentName.RECORDING_LIST: RecordingListReply,
    IntentName.RECORDING_OPEN: RecordingOpenReply,
    IntentName.RECORDING_READ: RecordingReadReply,
}
EVENTS: dict[EventName, type] = {
    EventName.CALL_RECORDED: CallRecordedData,
    EventName.RECORDING_OPENED: RecordingOpenedData,
}
