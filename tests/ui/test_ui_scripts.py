"""Scenario scripts from the window: the CSMS panel's and the charger panel's Script fields
run the shipped examples against each other; a script that cannot load is refused inline."""

from __future__ import annotations

from pathlib import Path

from test_ui_window import click, start_csms
from ui_helpers import until

SCRIPTS = Path(__file__).parents[2] / "examples" / "scripts"


def test_scripts_run_from_the_panels(window, qtbot, run, tmp_path):
    async def scenario():
        csms = window.roles.csms
        csms.script.edit.setText(str(SCRIPTS / "csms_checks.py"))
        url = await start_csms(qtbot, window)
        charger = window.roles.charger
        charger.csms_url.setText(url)
        # a script that does not load: one line under the panel, nothing starts
        broken = tmp_path / "broken.py"
        broken.write_text("async def run(cp):\n    await cp.boot(\n")
        charger.script.edit.setText(str(broken))
        charger.charge_point.setText("CP-BROKEN")
        click(qtbot, charger.start_button)
        assert "broken.py line 2: SyntaxError" in charger.error.text()
        assert "CP-BROKEN" not in charger.runs
        charger.script.edit.setText(str(SCRIPTS / "charger_refused_card.py"))
        charger.charge_point.setText("CP-SCRIPT")
        click(qtbot, charger.start_button)
        await until(lambda: "session complete" in charger.runs["CP-SCRIPT"].state or
                    charger.runs["CP-SCRIPT"].state == "failed", 30,
                    "the script to finish")
        assert charger.runs["CP-SCRIPT"].state in (
            "session complete", "connected (session complete)"), charger.error.text()
        messages = window.messages.toPlainText()
        await until(lambda: "CP-SCRIPT: card BAD0001 refused" in window.messages.toPlainText(),
                    10, "the CSMS script's line")
        await until(lambda: "CP-SCRIPT: heartbeat interval 300" in window.messages.toPlainText(),
                    10, "the CSMS script's call")
        assert "Traceback" not in messages
        window.save_settings()
        assert window.settings.value("charger/script").endswith("charger_refused_card.py")
        assert window.settings.value("csms/script").endswith("csms_checks.py")

    run(scenario(), 90)
