"""The Fleet panel's *Processes*: the fleet on Locust workers (`ocpp-inspector fleet --workers
N`), started as that command so it runs exactly as on the command line. Its progress lines
feed the panel's figures, its JSON summary the summary view; Stop is Ctrl+C to it."""

from __future__ import annotations

import json
import re
import sys

from PySide6.QtCore import QProcessEnvironment, Signal

from .command_process import CommandProcess

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


class WorkersRun(CommandProcess):
    progress = Signal(dict)  # the latest progress line, parsed
    finished = Signal(object, int, str)  # summary dict (or None), exit code, last error text

    def __init__(self, command: list[str], parent=None):
        super().__init__(parent)
        environment = QProcessEnvironment.systemEnvironment()
        environment.insert("OCPP_INSPECTOR_PROGRESS_S", "1")
        environment.insert("PYTHONUNBUFFERED", "1")
        self.process.setProcessEnvironment(environment)
        self.process.readyReadStandardError.connect(self._read_progress)
        self.process.finished.connect(self._finished)
        self._errors: list[str] = []
        self.start(command)

    def _read_progress(self) -> None:
        for line in self.lines(self.process.readAllStandardError()):
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

    # stop() (Ctrl+C: the master stops the workers and still prints its summary) and
    # running come from CommandProcess


class LocustFleet:
    """The Fleet panel's side of a run on Locust workers: starts the command from the
    panel's fields, shows its progress in the panel's figures and its summary."""

    def __init__(self, panel):
        self.panel = panel

    def start(self) -> "WorkersRun | None":
        panel = self.panel
        try:
            options = panel.options()
            if options.tls is not None:
                raise ValueError("Processes run ws:// fleets; for wss:// run the fleet in this "
                                 "window (Processes: this window)")
        except ValueError as exc:
            panel.fail(str(exc))
            return None
        panel.save_settings()
        capture = None
        if panel.log_every.value():
            path = panel.host.ensure_capture()
            capture = str(path.with_name(path.stem + "-fleet.db")) if path else None
        command = fleet_command(options, workers=panel.processes.value(),
                                log_every=panel.log_every.value(), capture=capture,
                                web=panel.locust_web.isChecked())
        panel._stopping = False
        panel.last_summary = None
        panel.summary_view.clear()
        panel.summary_view.hide()
        panel.last_error.hide()
        panel.set_running(True, f"starting {panel.processes.value()} Locust worker process(es)…")
        panel.host.note("info", f"fleet of {options.count} chargers on {panel.processes.value()} "
                        f"Locust workers against {options.url}"
                        + (f"; every {panel.log_every.value()}-th charger of each worker logged "
                           f"to {capture[:-3]}-w<k>.db" if capture else "")
                        + ("; Locust web UI: http://127.0.0.1:8089/"
                           if panel.locust_web.isChecked() else ""), panel.kind)
        run = WorkersRun(command, panel)
        run.progress.connect(self._progress)
        run.finished.connect(lambda summary, code, error: self._finished(summary, code, error,
                                                                          options.count))
        return run

    def _progress(self, values: dict) -> None:
        panel = self.panel
        for key, text in (("connected", values["connected"]), ("booted", values["booted"]),
                          ("in_transaction", values["in_transaction"]),
                          ("errors", values["errors"]), ("frames_per_s", values["fps"]),
                          ("latency", values["latency"]), ("missed", values["missed"])):
            panel.figures[key].setText(f"{int(text):,}" if text.isdigit() else text)
        if not panel._stopping:
            panel.state.setText(f"running on {values['workers']} Locust worker(s)")

    def _finished(self, summary: dict | None, code: int, error: str, count: int) -> None:
        from .fleet import summary_text
        panel = self.panel
        panel.workers_run = None
        if summary is None:
            panel.set_running(False, "stopped")
            panel.fail(f"Fleet on Locust workers ended with exit code {code}"
                       + (f": {error}" if error else ""))
            return
        panel.last_summary = summary
        summary = {"offline_periods": 0, "evs_left_full": 0, "max_lateness_s": 0.0,
                   "sessions_completed": summary.get("sessions", 0), **summary}
        panel.figures["frames"].setText(f"{summary['frames']:,}")
        panel.summary_view.setPlainText(summary_text(summary, count)
                                        + f"\nLocust workers {summary['workers']}, requests "
                                          f"{summary['requests']:,}, failures "
                                          f"{summary['failures']:,}")
        panel.summary_view.show()
        how = "stopped" if panel._stopping else "finished"
        panel.set_running(False, f"{how} after {summary['elapsed_s']:g} s: {summary['booted']} "
                                 f"of {count} booted on {summary['workers']} worker(s)")
        if not panel._stopping and code != 0:
            panel.fail(f"Fleet: only {summary['booted']} of {count} chargers booted"
                       + (f"; last error: {summary['last_errors'][-1]}"
                          if summary["last_errors"] else ""))
