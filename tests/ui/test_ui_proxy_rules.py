"""The proxy's Rules window: rules added, edited and switched off while the proxy runs act on
the next frame of a live connection; a rule that does not read is refused with why."""

from __future__ import annotations

import asyncio
import os

import pytest

from PySide6.QtCore import Qt

from inspector import flags
from inspector.roles.charger import ChargerOptions, FakeCharger
from test_ui_window import click, start_csms
from ui_helpers import until


def _heartbeat_answers(window):
    store = window.live.store
    rows = [store.row(i) for i in range(store.count)]
    return [r for r in rows if r.role == "proxy" and r.type == "CALLRESULT"
            and r.action == "Heartbeat"]


def test_rules_edited_live_act_on_the_next_frame(window, qtbot, run, tmp_path):
    async def scenario():
        upstream = await start_csms(qtbot, window)
        proxy = window.roles.proxy
        proxy.listen.setText("127.0.0.1:0")
        proxy.upstream.setText(upstream.rstrip("/"))
        click(qtbot, proxy.start_button)
        await until(lambda: proxy.running, 10, "the proxy")
        assert proxy.rules_state.text() == "none (byte pipe)"
        charger = FakeCharger(window.hub, ChargerOptions(url=proxy.url.text() + "CP-R",
                                                         version="1.6"))
        await charger.connect()
        try:
            await charger.boot()
            dialog = proxy.show_rules()
            click(qtbot, dialog.findChild(type(dialog.apply_button), "rulesAdd"))
            # a value without quotes does not read: nothing applies, and the window says why
            dialog.editor.setPlainText(dialog.editor.toPlainText().replace(
                'action = "Heartbeat"', "action = Heartbeat"))
            click(qtbot, dialog.apply_button)
            assert not dialog.error.isHidden() and "rule 1" in dialog.error.text()
            assert not proxy.rules.rules
            dialog.editor.setPlainText(dialog.editor.toPlainText().replace(
                "action = Heartbeat", 'action = "Heartbeat"').replace("ms = 2000", "ms = 600"))
            click(qtbot, dialog.apply_button)
            assert dialog.error.isHidden()
            assert proxy.rules_state.text() == "1 of 1 rule(s) on"
            assert "new rule 1: to_charger, CALLRESULT, Heartbeat -> delay 600 ms" in \
                proxy.rules_state.toolTip()
            if os.environ.get("RULES_SCREENSHOT"):
                dialog.grab().save(os.environ["RULES_SCREENSHOT"])
            await charger.heartbeat()
            await until(lambda: len(_heartbeat_answers(window)) == 1, 10, "the delayed answer")
            delayed = _heartbeat_answers(window)[0]
            assert delayed.latency_ms >= 550
            assert [flags.code_of(f) for f in delayed.flags] == [flags.RULE_DELAYED]
            # switched off from the list: the next answer is the byte pipe's again
            dialog.list.item(0).setCheckState(Qt.CheckState.Unchecked)
            assert not proxy.rules.watches("to_charger")
            assert "enabled = false" in dialog.editor.toPlainText()
            await charger.heartbeat()
            await until(lambda: len(_heartbeat_answers(window)) == 2, 10, "the second answer")
            assert _heartbeat_answers(window)[1].flags == []
        finally:
            await charger.close()
        # saved with the window's settings: a new window starts with the same rules
        assert "enabled = false" in window.settings.value("proxy/rules")
        rules_file = tmp_path / "saved.toml"
        dialog.save_file(str(rules_file))
        assert 'name = "new rule 1"' in rules_file.read_text()
        assert dialog.open_file(str(tmp_path / "missing.toml")) is False
        assert "cannot read rules file" in dialog.error.text()

    run(scenario(), 90)


def test_a_json_rules_file_opens_as_toml_rules(window, qtbot, tmp_path):
    from pathlib import Path
    dialog = window.roles.proxy.show_rules()
    examples = Path(__file__).parents[2] / "examples" / "rules"
    assert dialog.open_file(str(examples / "rules.json"))
    assert dialog.list.count() == 2
    assert [r.name for r in window.roles.proxy.rules.rules] == ["reset refused",
                                                                "unlock by a closed door"]
    assert 'frame = [3, "*", { status = "Rejected" }]' in dialog.snippets[0]


def test_gui_command_line_starts_the_proxy_with_a_rules_file(window, run, tmp_path):
    """`gui --proxy ... --upstream ... --rules FILE`: checked on the console first (a broken
    file or --rules without --proxy is one line), then the window's proxy runs those rules."""
    from pathlib import Path

    import pytest

    from inspector.cli import UserError, gui_launch
    from inspector.cli_parser import build_parser
    from ui.launch import apply_launch

    def launch(*argv):
        return gui_launch(build_parser().parse_args(["gui", *argv]))

    examples = Path(__file__).parents[2] / "examples" / "rules"
    with pytest.raises(UserError, match="--rules is for --proxy"):
        launch("--rules", str(examples / "rules.json"))
    broken = tmp_path / "broken.json"
    broken.write_text('{"rules": [{"do": "delay"}]}')
    with pytest.raises(UserError, match="ms must be a positive"):
        launch("--proxy", "127.0.0.1:0", "--upstream", "ws://127.0.0.1:9/ocpp", "--rules",
               str(broken))
    settings = launch("--proxy", "127.0.0.1:0", "--upstream", "ws://127.0.0.1:9/ocpp",
                      "--rules", str(examples / "csms-misbehaves.toml"))
    run(apply_launch(window, settings), 30)
    proxy = window.roles.proxy
    assert proxy.running
    assert [r.name for r in proxy.role.rules.rules] == ["first boot fails", "refuse cards",
                                                        "lossy status answers"]


def test_intercepted_frames_are_edited_forwarded_or_dropped_in_the_window(window, qtbot, run):
    """An intercept rule pauses a charger's StatusNotification: the Intercepted frames window
    opens with it; the edit reaches the CSMS, a second one is dropped, a third forwarded as
    it came; the panel counts what waits."""
    async def scenario():
        upstream = await start_csms(qtbot, window)
        proxy = window.roles.proxy
        proxy.listen.setText("127.0.0.1:0")
        proxy.upstream.setText(upstream.rstrip("/"))
        proxy.use_rules_text('[[rule]]\nname = "look at statuses"\ntype = "CALL"\n'
                             'action = "StatusNotification"\ndo = "intercept"\n')
        click(qtbot, proxy.start_button)
        await until(lambda: proxy.running, 10, "the proxy")
        charger = FakeCharger(window.hub, ChargerOptions(url=proxy.url.text() + "CP-I",
                                                         version="1.6", call_timeout=3))
        await charger.connect()
        try:
            await charger.boot()
            sent = asyncio.ensure_future(charger.send_status("Available"))
            await until(lambda: proxy.intercept_dialog is not None
                        and proxy.intercept_dialog.list.count() == 1, 10, "the paused frame")
            dialog = proxy.intercept_dialog
            assert dialog.isVisible() and proxy.paused_state.text() == "1 frame(s) paused"
            assert '"Available"' in dialog.editor.toPlainText()
            dialog.editor.setPlainText(dialog.editor.toPlainText().replace("Available",
                                                                          "Unavailable"))
            if os.environ.get("INTERCEPT_SCREENSHOT"):
                dialog.grab().save(os.environ["INTERCEPT_SCREENSHOT"])
            click(qtbot, dialog.forward_button)
            await asyncio.wait_for(sent, 10)
            await until(lambda: dialog.list.count() == 0, 10, "the pause to end")
            assert proxy.paused_state.text() == "none paused"
            sent = asyncio.ensure_future(charger.send_status("Preparing"))
            await until(lambda: dialog.list.count() == 1, 10, "the second pause")
            click(qtbot, dialog.drop_button)
            with pytest.raises(Exception):
                await asyncio.wait_for(sent, 10)  # never answered
            sent = asyncio.ensure_future(charger.send_status("Available"))
            await until(lambda: dialog.list.count() == 1, 10, "the third pause")
            click(qtbot, dialog.all_button)
            await asyncio.wait_for(sent, 10)
        finally:
            await charger.close()
        store = window.live.store
        await until(lambda: any(store.row(i).role == "csms" and "Available" in store.raw(i)
                                for i in range(store.count)), 10, "the last status at the CSMS")
        at_csms = [store.raw(i) for i in range(store.count)
                   if store.row(i).role == "csms" and store.row(i).action == "StatusNotification"
                   and store.row(i).type == "CALL"]
        assert len(at_csms) == 2 and "Unavailable" in at_csms[0] and "Available" in at_csms[1]

    run(scenario(), 90)
