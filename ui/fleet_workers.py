"""The Fleet panel's *Processes*: the fleet on Locust workers (`ocpp-inspector fleet --workers
N`), started as that command so it runs exactly as on the command line. Its progress lines
feed the panel's figures, its JSON summary the summary view; Stop is Ctrl+C to it."""

from __future__ import annotations

import json
import os
import re
import signal
import sys

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal

PROGRESS = re.compile(
    r"workers (?P<workers>\d+)\s+connected (?P<connected>\d+)\s+booted (?P<booted>\d+)\s+in "
    r"transaction (?P<in_transaction>\d+)\s+errors (?P<errors>\d+)\s+(?P<fps>\d+) frames/s\s+"
    r"latency p50/p99 (?P<latency>\S+(?: ms)?)\s+missed intervals (?P<missed>\d+)")


def fleet_command(options, *, workers: int, log_every: int, capture: str | None,
                  web: bool) -> list[str]:
    """`ocpp-inspector fleet --workers N ...` for the panel's options (a FleetOptions)."""
    command = [sys.executable, "-m", "inspector", "fleet", "--url", options.url,
               "--workers", str(workers), "--count", str(options.count),
               "--version", options.version, "--prefix", options.prefix,
               "--ramp-up", f"{options.ramp_up:g}", "--duration", f"{options.duration:g}",
               "--scenario", options.scenario, "--meter-interval", f"{options.meter_interval:g}",
               "--json", "-q"]
    if options.heartbeat_interval:
        command += ["--heartbeat", f"{options.heartbeat_interval:g}"]
    if options.password:
        command += ["--password", options.password]
    if options.script is not None:
        command += ["--script", str(options.script.path)]
    if options.model is not None and options.model.name:
        command += ["--model", options.model.name]
    if capture and log_every:
        command += ["--log-every", str(log_every), "--db", capture]
    else:
        command += ["--no-log"]
    if web:
        command += ["--locust-web"]
    return command


class WorkersRun(QObject):
    progress = Signal(dict)  # the latest progress line, parsed
    finished = Signal(object, int, str)  # summary dict (or None), exit code, last error text

    def __init__(self, command: list[str], parent=None):
        super().__init__(parent)
        self.process = QProcess(self)
        environment = QProcessEnvironment.systemEnvironment()
        environment.insert("OCPP_INSPECTOR_PROGRESS_S", "1")
        environment.insert("PYTHONUNBUFFERED", "1")
        self.process.setProcessEnvironment(environment)
        self.process.readyReadStandardError.connect(self._read_progress)
        self.process.finished.connect(self._finished)
        self._errors: list[str] = []
        self._partial = ""
        self.process.start(command[0], command[1:])

    def _read_progress(self) -> None:
        text = self._partial + bytes(self.process.readAllStandardError()).decode(errors="replace")
        lines = re.split(r"[\r\n]", text)
        self._partial = lines.pop()
        for line in lines:
            match = PROGRESS.search(line)
            if match:
                self.progress.emit(match.groupdict())
            elif "error" in line.lower():
                self._errors.append(line.strip())

    def _finished(self, code: int, _status) -> None:
        out = bytes(self.process.readAllStandardOutput()).decode(errors="replace")
        summary = None
        if "{" in out:
            try:
                summary = json.loads(out[out.index("{"):])
            except ValueError:
                summary = None
        self.finished.emit(summary, code, self._errors[-1] if self._errors else "")

    def stop(self) -> None:
        """Ctrl+C: the master stops the workers and still prints its summary."""
        if self.process.state() != QProcess.ProcessState.NotRunning:
            os.kill(self.process.processId(), signal.SIGINT)

    @property
    def running(self) -> bool:
        return self.process.state() != QProcess.ProcessState.NotRunning
