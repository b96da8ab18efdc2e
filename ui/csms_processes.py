"""The Fake CSMS panel's *Processes*: `ocpp-inspector csms --workers N` (N processes behind one
port, SO_REUSEPORT) started as that command, for fleets larger than the window's own CSMS
answers. Its chargers' frames go to the workers' captures, not to this window's log."""

from __future__ import annotations

import os
import re
import signal
import sys

from PySide6.QtCore import QObject, QProcess, Signal

SHARED = re.compile(r"(\d+) workers share (ws://\S+/)")


def csms_command(listen: str, workers: int, *, capture: str | None, overrides: str = "",
                 script: str = "", lenient: bool = False) -> list[str]:
    command = [sys.executable, "-m", "inspector", "csms", "--listen", listen, "--workers",
               str(workers), "-q"]
    command += ["--db", capture] if capture else ["--no-log"]
    if overrides:
        command += ["--overrides", overrides]
    if script:
        command += ["--script", script]
    if lenient:
        command += ["--accept-no-subprotocol"]
    return command


class CsmsProcesses(QObject):
    listening = Signal(str)  # the URL every worker shares
    finished = Signal(int, str)  # exit code, the last error line

    def __init__(self, command: list[str], parent=None):
        super().__init__(parent)
        self.process = QProcess(self)
        self.process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        self.process.readyReadStandardOutput.connect(self._read)
        self.process.finished.connect(lambda code, _status: self.finished.emit(code, self.error))
        self.error = ""
        self._partial = ""
        self.process.start(command[0], command[1:])

    def _read(self) -> None:
        text = self._partial + bytes(self.process.readAllStandardOutput()).decode(errors="replace")
        lines = text.split("\n")
        self._partial = lines.pop()
        for line in lines:
            match = SHARED.search(line)
            if match:
                self.listening.emit(match.group(2))
            elif "error" in line.lower():
                self.error = line.strip().removeprefix("ocpp-inspector: error: ")

    def stop(self) -> None:
        if self.process.state() != QProcess.ProcessState.NotRunning:
            os.kill(self.process.processId(), signal.SIGINT)

    @property
    def running(self) -> bool:
        return self.process.state() != QProcess.ProcessState.NotRunning
