"""kentsafe: a keyboard-driven terminal app for a school's Designated Safeguarding Lead."""

__version__ = "0.1.0"
