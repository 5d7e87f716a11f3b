"""The PySide6 desk: shows hub state, sends intents. Holds no business rule."""
