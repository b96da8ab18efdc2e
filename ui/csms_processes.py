"""The Fake CSMS panel's *Processes*: `ocpp-inspector csms --workers N` (N processes behind one
port, SO_REUSEPORT) started as that command, for fleets larger than the window's own CSMS
answers. Its chargers' frames go to the workers' captures, not to this window's log."""

from __future__ import annotations

import re
import sys

from PySide6.QtCore import QProcess, Signal

from .command_process import CommandProcess

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


class CsmsProcesses(CommandProcess):
    listening = Signal(str)  # the URL every worker shares
    finished = Signal(int, str)  # exit code, the last error line

    def __init__(self, command: list[str], parent=None):
        super().__init__(parent)
        self.process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        self.process.readyReadStandardOutput.connect(self._read)
        self.process.finished.connect(lambda code, _status: self.finished.emit(code, self.error))
        self.error = ""
        self.start(command)

    def _read(self) -> None:
        for line in self.lines(self.process.readAllStandardOutput()):
            match = SHARED.search(line)
            if match:
                self.listening.emit(match.group(2))
            elif "error" in line.lower():
                self.error = line.strip().removeprefix("ocpp-inspector: error: ")
