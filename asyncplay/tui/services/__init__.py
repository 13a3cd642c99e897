"""Work off the UI's path: the session thread, the replay's stand-in for it, the autosave writer."""
