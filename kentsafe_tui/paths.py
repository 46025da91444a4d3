"""Where kentsafe keeps its data by default: records.json in the user's data folder."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_path

DB_NAME = "records.json"


def default_db_path() -> Path:
    """~/.local/share/kentsafe/records.json on Linux (XDG_DATA_HOME is honoured)."""
    return user_data_path("kentsafe", appauthor=False) / DB_NAME
