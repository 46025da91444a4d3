"""Screens: the main three-pane screen, the incident list, oversight and the dialogs."""
