"""``progress=True``: tqdm bars (``tqdm.auto``: a widget in Jupyter, a text bar in a terminal).

tqdm is optional (``pip install 'mesbackup[progress]'``). Without it ``progress=True`` raises
``ImportError`` saying so, before the job starts: a silent fallback would leave a notebook user
staring at a cell with no sign of life and no hint why.
"""

from __future__ import annotations

from typing import Any


class Bars:
    """One bar for a single download, or one per database of a system backup."""

    def __init__(self, per_database: bool) -> None:
        try:
            from tqdm.auto import tqdm  # type: ignore[import-untyped,import-not-found,unused-ignore]
        except ImportError as e:
            raise ImportError(
                "progress=True needs tqdm: pip install tqdm (or 'mesbackup[progress]'), or pass a callback"
            ) from e
        self._tqdm = tqdm
        self._per_database = per_database
        self.bars: dict[str, Any] = {}

    def _update(self, key: str, done: int, total: int | None, phase: str) -> None:
        bar = self.bars.get(key)
        if bar is None:
            bar = self._tqdm(desc=key, total=total, unit="B", unit_scale=True, unit_divisor=1024, leave=True)
            self.bars[key] = bar
        if total is not None and bar.total != total:
            bar.total = total
        bar.set_postfix_str(phase, refresh=False)
        bar.update(done - bar.n)

    def progress(self, done: int, total: int | None, phase: str) -> None:
        # A system backup's summed progress would be a fifth bar repeating the other four.
        if not self._per_database:
            self._update("download", done, total, phase)

    def database(self, database: str, done: int, total: int | None, phase: str) -> None:
        self._update(database, done, total, phase)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
