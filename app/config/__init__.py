"""The hub's configuration: one typed settings object, loaded from a file and flags."""
