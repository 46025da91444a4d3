"""Widgets: each draws one part of the screen and reports what the user did with a message."""
