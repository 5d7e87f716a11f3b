"""Call recordings kept centrally: the hub's store, the upload and playback intents,
and the desk's uploader (a journal of recordings not yet confirmed by the hub)."""
