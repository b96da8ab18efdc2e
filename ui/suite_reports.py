"""The Suites tab's report actions: save JUnit XML / HTML, open the HTML report in a browser.

A mixin of `SuitesTab` (ui/suites.py). The browser is opened through the tab's `_open_url`,
which calls `ui.suites.open_url`, so tests can replace that one function.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QPushButton

from inspector.conformance import report
from inspector.events import Notice

from .widgets import ask_path, describe


class SuiteReports:
    """Report buttons and what they do (mixed into `SuitesTab`)."""

    def _build_reports(self) -> QHBoxLayout:
        self.save_junit_button = QPushButton("Save JUnit XML…")
        self.save_junit_button.setObjectName("suitesSaveJunit")
        self.save_html_button = QPushButton("Save HTML report…")
        self.save_html_button.setObjectName("suitesSaveHtml")
        self.open_html_button = QPushButton("Open HTML report")
        self.open_html_button.setObjectName("suitesOpenHtml")
        reports = QHBoxLayout()
        reports.setContentsMargins(0, 0, 0, 0)
        reports.addWidget(self.save_junit_button)
        reports.addWidget(self.save_html_button)
        reports.addWidget(self.open_html_button)
        reports.addStretch(1)
        return reports

    def save_junit(self, path) -> bool:
        return self._save(report.write_junit, path, "JUnit XML report")

    def save_html(self, path) -> bool:
        if self._save(report.write_html, path, "HTML report"):
            self.html_path = Path(path)
            return True
        return False

    def _save(self, write, path, what: str) -> bool:
        if self.result is None:
            self.fail("Nothing to save yet: run some cases first.")
            return False
        try:
            write(self.result, path)
        except OSError as exc:
            self.fail(f"Cannot write the {what} to {path}: {describe(exc)}")
            return False
        self.host.statusBar().showMessage(f"Saved the {what} as {path}", 8000)
        self.host.hub.publish(Notice("info", f"{what} saved as {path}", "suite"))
        return True

    def open_html(self) -> Path | None:
        """Open the HTML report in the browser: the saved file, else a temporary one."""
        if self.result is None:
            self.fail("No report yet: run some cases first.")
            return None
        path = self.html_path
        if path is None or not path.exists():
            if self._temp_dir is None:
                self._temp_dir = tempfile.TemporaryDirectory(prefix="ocpp-inspector-report-")
            stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self.result.started or time.time()))
            path = Path(self._temp_dir.name) / f"conformance-{stamp}.html"
            try:
                report.write_html(self.result, path)
            except OSError as exc:
                self.fail(f"Cannot write the HTML report: {describe(exc)}")
                return None
        if not self._open_url(QUrl.fromLocalFile(str(path))):
            self.fail(f"Cannot open a browser; the report is at {path}")
        return path

    def _suggested_name(self, suffix: str) -> str:
        result = self.result
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(result.started or time.time()))
        return f"conformance-{result.version}-{result.sut}-{stamp}{suffix}"

    def _ask_path(self, title: str, name_filter: str, suffix: str, callback) -> QFileDialog | None:
        if self.result is None:
            return None
        directory = Path(str(self.settings.value("suites/report_dir", str(Path.home()))))
        return ask_path(self, self.settings, "suites/report_dir", title,
                        str(directory / self._suggested_name(suffix)), name_filter, callback,
                        save=True, default_suffix=suffix.lstrip("."))

    def _ask_save_junit(self) -> None:
        self._ask_path("Save JUnit XML report", "JUnit XML (*.xml);;All files (*)", ".xml",
                       self.save_junit)

    def _ask_save_html(self) -> None:
        self._ask_path("Save HTML report", "HTML (*.html *.htm);;All files (*)", ".html",
                       self.save_html)
