"""Render the documentation screenshots from a real session, offscreen or on an X server.

    QT_QPA_PLATFORM=offscreen python -m ui.screenshots [OUTPUT_DIR]   (default: docs/)
    QT_QPA_PLATFORM=xcb DISPLAY=:99 python -m ui.screenshots [OUTPUT_DIR]   (e.g. under Xvfb :99)

The images in docs/ were rendered the second way, under Xvfb (Debian's xvfb package).

Starts a fake CSMS, a proxy in front of it and two fake chargers (1.6 direct, 2.0.1 via
the proxy) on 127.0.0.1, sends one deliberately invalid frame, then grabs the main views;
then runs a fleet of 60 chargers against the fake CSMS, every one logged, and grabs the
Fleet tab, the Meter values plot and the Connections view under that load.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


async def _until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def _session(window, out: Path) -> list[Path]:
    from PySide6.QtCore import Qt

    from .framestore import FrameFilter

    roles = window.roles
    roles.csms.listen.setText("127.0.0.1:0")
    roles.csms.start()
    await _until(lambda: roles.csms.running, 10, "the fake CSMS")
    roles.proxy.listen.setText("127.0.0.1:0")
    roles.proxy.upstream.setText(roles.csms.url.text().rstrip("/"))
    roles.proxy.start()
    await _until(lambda: roles.proxy.running, 10, "the proxy")
    charger = roles.charger
    charger.interval.setValue(0.05)
    charger.meter_values.setValue(60)
    charger.stay.setChecked(True)
    for name, version, url in (("CP-1.6-A", "1.6", roles.csms.url.text()),
                               ("CP-2.0.1-B", "2.0.1", roles.proxy.url.text())):
        charger.csms_url.setText(url)
        charger.charge_point.setText(name)
        charger.version.setCurrentText(version)
        charger.start()
        await asyncio.sleep(0.7)
    await _until(lambda: all(r.state.startswith("connected (") for r in charger.runs.values()),
                 60, "the charging sessions")
    # one invalid CALL from the CSMS, answered with a CALLERROR by the strict fake charger
    dialog = window.open_send_dialog(("csms", "CP-1.6-A"), action="ChangeConfiguration",
                                     payload={"key": "HeartbeatInterval", "value": 60})
    dialog._send_now()
    await _until(lambda: "CALLERROR" in dialog.result.text(), 10, "the CALLERROR")
    dialog.close()
    await asyncio.sleep(0.2)
    window.drain()
    window.resize(1500, 940)
    await asyncio.sleep(0.1)
    shots = []

    async def grab(widget, name: str) -> None:
        await asyncio.sleep(0.1)  # let Qt lay out and paint (never processEvents in a task)
        path = out / f"screenshot-{name}.png"
        widget.grab().save(str(path))
        shots.append(path)

    # the main window with the log and the detail of the invalid CALL
    store = window.live.store
    invalid = int(store.select(FrameFilter(action="ChangeConfiguration", type="CALL"))[-1])
    window.tabs.setCurrentWidget(window.detail)
    window.roles.setCurrentWidget(window.roles.charger)
    window.log.select_store_row(invalid)
    await grab(window, "main")
    await grab(window.detail, "detail")
    window.log.bar.set_filter(FrameFilter(charge_point="CP-2.0.1-B", action="TransactionEvent"))
    window.log.select_store_row(int(store.select(window.model.filter)[4]))
    await grab(window.log, "filtered")
    window.log.bar.reset()
    sizes = window.splitter.sizes()
    window.splitter.setSizes([260, sum(sizes) - 260])
    window.tabs.setCurrentWidget(window.plot)
    window.plot.select("Energy.Active.Import.Register")
    await grab(window.plot, "plot-energy")
    window.splitter.setSizes(sizes)
    send = window.open_send_dialog(("charger", "CP-2.0.1-B"), action="Authorize")
    await grab(send, "send")
    send.close()

    # proxy rules: the examples file in the Rules window, then an intercepted frame
    examples = Path(__file__).resolve().parents[1] / "examples" / "rules"
    rules = roles.proxy.show_rules()
    if (examples / "csms-misbehaves.toml").exists():  # a source checkout
        rules.open_file(str(examples / "csms-misbehaves.toml"))
        rules.list.setCurrentRow(1)
        await grab(rules, "proxy-rules")
    rules.close()
    roles.proxy.use_rules_text('[[rule]]\nname = "look at data transfers"\ntype = "CALL"\n'
                               'action = "DataTransfer"\ndo = "intercept"\n')
    send = window.open_send_dialog(("charger", "CP-2.0.1-B"), action="DataTransfer",
                                   payload={"vendorId": "com.example", "messageId": "Diag",
                                            "data": "door=open"})
    send._send_now()
    await _until(lambda: roles.proxy.intercept_dialog is not None
                 and roles.proxy.intercept_dialog.list.count() == 1, 10, "the paused frame")
    send.close()
    await grab(roles.proxy.intercept_dialog, "intercept")
    roles.proxy.intercept_dialog.all_button.click()
    roles.proxy.intercept_dialog.close()
    roles.proxy.use_rules_text("")

    # File › Replay capture…: this session's capture (the proxy's view) against the CSMS
    window.writer.flush()
    replay = window.open_replay_dialog()
    replay.capture.setText(str(window.writer.path))
    replay.target.setText(roles.csms.url.text())
    replay.speed.setCurrentIndex(2)
    replay.ignore.setText("$.meterValue[*].sampledValue[*].value")
    replay.start()
    await _until(lambda: replay.result is not None, 60, "the replay")
    await grab(replay, "replay")
    replay.close()

    # a fleet of 60 against the fake CSMS, every charger logged: the views under load
    fleet = roles.fleet
    fleet.csms_url.setText(roles.csms.url.text())
    fleet.count.setValue(60)
    fleet.prefix.setText("FLEET")
    fleet.version.setCurrentText("2.0.1")
    fleet.scenario.setCurrentText("charging")
    fleet.ramp_up.setValue(3.0)
    fleet.duration.setValue(120.0)
    fleet.meter_interval.setValue(1.0)
    fleet.heartbeat.setText("10")
    fleet.log_every.setValue(1)
    fleet.start()
    roles.setCurrentWidget(fleet)
    await _until(lambda: fleet.fleet is not None and fleet.fleet.stats.booted == 60, 30,
                 "the fleet to boot")
    await asyncio.sleep(12)  # a dozen readings per charger, live figures refreshed
    window.log.table.follow()  # the earlier shots selected a frame, which paused Follow
    window.drain()
    window.tabs.setCurrentWidget(window.connections)
    window.connections.hide_closed.setChecked(True)
    await grab(window, "fleet")
    await grab(window.connections, "connections")
    window.splitter.setSizes([260, sum(sizes) - 260])
    window.tabs.setCurrentWidget(window.plot)
    window.plot.select("Power.Active.Import")
    window.plot.search.setText("FLEET00")  # FLEET0001..FLEET0009 and the picker's All/None
    await asyncio.sleep(1.2)  # the plot redraws once a second with this many curves
    await grab(window.plot, "plot")
    window.plot.search.clear()
    window.splitter.setSizes(sizes)
    await fleet.shutdown()  # stop it: the next screenshots need no fleet traffic
    window.connections.hide_closed.setChecked(False)
    window.log.bar.reset()

    # smart charging: a fleet of 10 under a 22 kW site limit, limits and power on one chart
    await roles.csms.shutdown()
    roles.csms.site_limit.setValue(22.0)
    roles.csms.start()
    await _until(lambda: roles.csms.running, 10, "the fake CSMS with a site limit")
    fleet.csms_url.setText(roles.csms.url.text())
    fleet.count.setValue(10)
    fleet.prefix.setText("SITE")
    fleet.version.setCurrentText("1.6")
    fleet.ramp_up.setValue(8.0)
    fleet.duration.setValue(60.0)
    fleet.meter_interval.setValue(1.0)
    fleet.start()
    await _until(lambda: fleet.fleet is not None and fleet.fleet.stats.booted == 10, 30,
                 "the site's chargers")
    await asyncio.sleep(10)  # transactions start and end: the shares follow
    window.drain()
    window.splitter.setSizes([200, sum(sizes) - 200])
    window.tabs.setCurrentWidget(window.plot)
    window.plot.select("Power.Active.Import")
    window.plot.none_button.click()  # then three chargers: power (solid), limit (dashed)
    window.plot.search.setText("SITE000")
    for name in ("SITE0001 c1", "SITE0001 c1 limit", "SITE0004 c1", "SITE0004 c1 limit",
                 "SITE0006 c1", "SITE0006 c1 limit"):
        for item in window.plot.picker.findItems(name, Qt.MatchFlag.MatchExactly):
            item.setCheckState(Qt.CheckState.Checked)
    await asyncio.sleep(1.2)
    await grab(window.plot, "plot-site-limit")
    window.plot.search.clear()
    window.plot.all_button.click()
    window.splitter.setSizes(sizes)
    await fleet.shutdown()
    window.log.bar.reset()

    # the Suites tab after an --auto conformance run with one failing case
    from .suites import screenshot as suites_screenshot
    shots.append(await suites_screenshot(window, out))
    return shots


def main(argv: list[str] | None = None) -> int:
    import qasync
    from PySide6.QtCore import QSettings

    from .app import create_application
    from .mainwindow import MainWindow

    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0] if argv else "docs")
    out.mkdir(parents=True, exist_ok=True)
    app = create_application([])
    loop = qasync.QEventLoop(app)
    with tempfile.TemporaryDirectory() as folder:
        settings = QSettings(str(Path(folder) / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(loop, settings=settings, capture_path=Path(folder) / "capture.db")
        window.show()

        async def run():
            try:
                return await _session(window, out)
            finally:
                await window.shutdown()
        shots = loop.run_until_complete(asyncio.wait_for(run(), 120))
        window.close()
    loop.close()
    for path in shots:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
