"""Statistics: the facts of the room, their projection, the monthly report."""
