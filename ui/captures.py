"""Capture files in the main window: browse one offline, save a copy, export JSONL.

A mixin of `MainWindow` (ui/mainwindow.py). A capture opened from disk becomes a second
`SessionData` shown in place of the live one; the live session keeps recording meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import tempfile
import time
from pathlib import Path

from inspector.store import (Capture, CaptureWriter, default_capture_path, export_jsonl,
                             remove_capture)

from .framestore import FrameFilter
from .session import SessionData, open_capture_session
from .widgets import ask_path, describe



def backup_capture(source: Path, target: Path) -> None:
    """Copy a capture with SQLite's backup API: consistent even while it is written (WAL)."""
    if Path(target).resolve() == Path(source).resolve():
        raise ValueError("choose another file than the capture itself")
    src = sqlite3.connect(f"{Path(source).resolve().as_uri()}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(str(target))
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


class CaptureActions:
    """File › Open / Save as / Export, and switching between live and opened sessions."""

    # ---- sessions: live or an opened capture ---------------------------------------------

    def show_session(self, session: SessionData) -> None:
        self.session_model.show(session)  # every view follows (MainWindow._subscribe_views)

    def show_live(self) -> None:
        if self._loading is not None and not self._loading.done():
            self._loading.cancel()
        if self.shown is not self.live:
            self.show_session(self.live)

    def open_capture(self, path) -> asyncio.Task:
        """Browse a capture file offline (loaded in chunks; the window stays responsive)."""
        if self._loading is not None and not self._loading.done():
            self._loading.cancel()
        self._loading = self.spawn(self._load_capture(Path(path)), "open capture")
        return self._loading

    async def _load_capture(self, path: Path) -> SessionData | None:
        if self.writer is not None and self.live.path and path.resolve() == self.live.path.resolve():
            self.writer.flush()
        try:
            capture = Capture(path)
        except (FileNotFoundError, ValueError) as exc:
            self.report_error(f"Cannot open capture: {exc}")
            return None
        try:
            session, load = open_capture_session(capture, path.name, path)
            self.show_session(session)
            # the frame table first (browsable as soon as it is read), in bulk chunks
            for rows in load.frames():
                self.session_model.announce(session, rows)
                self.statusBar().showMessage(f"Loading {path.name}: {session.store.count:,} of "
                                             f"{load.total:,} frames…")
                await asyncio.sleep(0)
            # then what the plot and the statuses need from the payloads
            for _ in load.payloads():
                await asyncio.sleep(0)
            session.stations.changed = True  # statuses were read with the payloads
            self.session_model.announce(session, range(0))
            if self.shown is session:
                self.plot.flush()
            self._file_done(f"Opened {path} ({session.store.count:,} frames)",
                            f"opened capture {path} ({session.store.count:,} frames)")
            self._update_stats()
            return session  # its store keeps the capture open, to read raw texts from
        except sqlite3.Error as exc:
            capture.close()
            self.report_error(f"Cannot read capture {path}: {exc}")
            return None
        except BaseException:
            capture.close()
            raise

    def save_capture_as(self, target) -> bool:
        source = self.shown.path
        if source is None:
            self.report_error("Nothing to save yet: the capture file is created when a role starts.")
            return False
        if self.shown is self.live and self.writer is not None:
            self.writer.flush()
        try:
            backup_capture(Path(source), Path(target))
        except (OSError, sqlite3.Error, ValueError) as exc:
            self.report_error(f"Cannot save the capture as {target}: {describe(exc)}")
            return False
        self._file_done(f"Saved capture as {target}", f"capture saved as {target}")
        return True

    def export_jsonl(self, target) -> int | None:
        """Export the frames shown (the whole capture, or what the filter selects)."""
        flt: FrameFilter = self.model.filter
        try:
            with open(target, "w", encoding="utf-8") as out:
                if flt.is_empty() and self.shown.path is not None:
                    if self.shown is self.live and self.writer is not None:
                        self.writer.flush()
                    capture = Capture(self.shown.path)
                    try:
                        count = export_jsonl(capture, out)
                    finally:
                        capture.close()
                else:
                    store = self.shown.store
                    count = 0
                    for view_row in range(self.model.rowCount()):
                        out.write(json.dumps(store.export_row(self.model.store_row(view_row)),
                                             ensure_ascii=False))
                        out.write("\n")
                        count += 1
        except (OSError, sqlite3.Error, ValueError) as exc:
            self.report_error(f"Cannot export to {target}: {describe(exc)}")
            return None
        self._file_done(f"Exported {count:,} frames to {target}",
                        f"exported {count:,} frames to {target}")
        return count

    def import_pcap(self, source, target=None) -> asyncio.Task | None:
        """File › Import pcap…: OCPP-J from a Wireshark capture into a capture file (next to
        the pcap unless `target` is given), then opened here. Runs off the window's thread."""
        from inspector.events import Hub
        from inspector.pcap_import import PcapError, import_pcap
        source = Path(source)
        target = Path(target) if target else _free_name(source.with_suffix(".db"))
        if target.exists():
            self.report_error(f"Cannot import into {target}: it exists")
            return None

        # a key log beside the pcap reads its wss:// connections
        keylog = next((p for p in (source.with_suffix(source.suffix + ".keys"),
                                   source.parent / "keys.log") if p.is_file()), None)

        def work():
            hub = Hub()
            writer = CaptureWriter(target)
            writer.attach(hub)
            failed = False
            try:
                return import_pcap(source, hub, keylog)
            except PcapError:
                failed = True
                raise
            finally:
                writer.close()  # once: a second close waits out its flush on a stopped writer
                if failed:
                    remove_capture(target)  # nothing half-written is left behind

        async def run():
            try:
                summary = await asyncio.get_running_loop().run_in_executor(None, work)
            except (PcapError, OSError, sqlite3.Error) as exc:
                self.report_error(f"Cannot import {source.name}: {describe(exc)}")
                return None
            self._file_done(f"Imported {source.name}: {summary.frames:,} frames",
                            f"imported {source.name} into {target}: {summary.line()}")
            for note in summary.notes:
                self._message("warning", f"{source.name}: {note}", "file")
            await self.open_capture(target)
            return summary
        return self.spawn(run(), "import pcap")

    def _ask_import_pcap(self) -> None:
        self._file_dialog("Import pcap / pcapng", False,
                          "Packet captures (*.pcap *.pcapng *.cap);;All files (*)", self.import_pcap)

    def _file_done(self, status: str, message: str) -> None:
        """A file action succeeded: say so in the status bar and in the Messages tab."""
        self.statusBar().showMessage(status, 8000)
        self._message("info", message, "file")

    def _file_dialog(self, title: str, save: bool, name_filter: str, callback, suggested="") -> None:
        directory = self.settings.value("files/last_dir", str(Path.home()))
        ask_path(self, self.settings, "files/last_dir", title,
                 str(Path(directory) / suggested) if suggested else directory, name_filter,
                 callback, save=save)

    def open_captures(self, paths) -> asyncio.Task | None:
        """File › Open capture… with several files (the workers of fleet/csms --workers):
        merged in time order into a temporary capture, opened as one."""
        paths = [Path(p) for p in paths]
        if len(paths) == 1:
            return self.open_capture(paths[0])
        from inspector.capture_merge import MergeError, merge_captures
        if self._merged_folder is None:
            self._merged_folder = tempfile.TemporaryDirectory(prefix="ocpp-inspector-")
        merged = Path(self._merged_folder.name) / f"{len(paths)}-captures-{int(time.time())}.db"

        async def run():
            try:
                count = await asyncio.get_running_loop().run_in_executor(
                    None, merge_captures, paths, merged)
            except (MergeError, OSError, sqlite3.Error) as exc:
                self.report_error(f"Cannot open these captures together: {describe(exc)}")
                return None
            self._message("info", f"merged {count:,} frames of {', '.join(p.name for p in paths)}"
                                  f" in time order", "file")
            return await self.open_capture(merged)
        return self.spawn(run(), "merge captures")

    def _ask_open(self) -> None:
        start = self.live.path.parent if self.live.path else default_capture_path().parent
        self.settings.setValue("files/last_dir", self.settings.value("files/last_dir", str(start)))
        directory = self.settings.value("files/last_dir", str(Path.home()))
        ask_path(self, self.settings, "files/last_dir", "Open capture (several: read as one)",
                 directory, "Captures (*.db);;All files (*)", self.open_captures, save=False,
                 several=True)

    def _ask_save(self) -> None:
        name = self.shown.path.name if self.shown.path else "capture.db"
        self._file_dialog("Save capture as", True, "Captures (*.db)", self.save_capture_as, name)

    def _ask_export(self) -> None:
        name = (self.shown.path.stem if self.shown.path else "frames") + ".jsonl"
        self._file_dialog("Export JSONL", True, "JSON lines (*.jsonl);;All files (*)",
                          self.export_jsonl, name)


def _free_name(path: Path) -> Path:
    """`path`, or path-2, path-3, ... when it exists."""
    candidate, number = path, 2
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
        number += 1
    return candidate
