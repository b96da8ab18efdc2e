"""An `ocpp-inspector` command the window runs as a process of its own (the fleet on Locust
workers, the fake CSMS on several processes): started, read line by line, stopped with
Ctrl+C so it still reports and stops its own workers."""

from __future__ import annotations

import os
import re
import signal

from PySide6.QtCore import QObject, QProcess


class CommandProcess(QObject):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.process = QProcess(self)
        self._partial = ""

    def start(self, command: list[str]) -> None:
        self.process.start(command[0], command[1:])

    def lines(self, data) -> list[str]:
        """The complete lines of what the process wrote (a progress line redrawn with \\r
        counts as a line); the unfinished rest waits for more."""
        text = self._partial + bytes(data).decode(errors="replace")
        lines = re.split(r"[\r\n]", text)
        self._partial = lines.pop()
        return lines

    def stop(self) -> None:
        if self.running:
            os.kill(self.process.processId(), signal.SIGINT)

    @property
    def running(self) -> bool:
        return self.process.state() != QProcess.ProcessState.NotRunning
