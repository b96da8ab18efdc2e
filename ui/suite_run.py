"""The Suites tab's run controller: start a run, follow its events, answer prompts, stop.

A mixin of `SuitesTab` (ui/suites.py). The runner runs on the roles' loop (its own
thread); its `on_event` callback is carried to the Qt thread (`host.from_roles`), and events
are per step, so updating widgets directly is cheap. Operator prompts are answered through the
runner's async `prompt` callback: a non-modal dialog resolves a future from its buttons,
so the loop keeps running (frames flow, Stop works) while the operator acts.
"""

from __future__ import annotations

import asyncio
import logging
import time

from inspector.conformance import (CaseFinished, CaseStarted, PromptDismissed, PromptReply,
                                   PromptRequest,
                                   PromptRequested, RunOptions, StepFinished, StepStarted,
                                   SuiteError, SuiteFinished, SuiteNote, SuiteRunner, SuiteStarted,
                                   Verdict)
from inspector.events import Notice
from inspector.loop_thread import run_in

from .suite_widgets import SUT_NAMES, VERDICT_COLOURS, PromptDialog
from .widgets import describe

log = logging.getLogger("ui.suites")  # the logger name the run's messages always had


class SuiteRunControl:
    """Run / Stop, the live results and the operator prompts (mixed into `SuitesTab`)."""

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def _update_buttons(self) -> None:
        running = self.running
        self.run_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        done = self.result is not None and not running
        for button in (self.save_junit_button, self.save_html_button, self.open_html_button):
            button.setEnabled(done)
        for widget in (self.listen, self.target, self.password, self.auto, self.step_timeout,
                       self.case_timeout, self.connect_timeout, self.params, self.sut_config,
                       self.sut_config_browse, self.operator_timeout, self.charger_security,
                       self.csms_security):
            widget.setEnabled(not running)
        self._show_simulated()

    def fail(self, text: str) -> None:
        """A readable error: under the Run button, in the status line and via the window."""
        self.error.setText(text)
        self.error.show()
        self.host.report_error(text, "suite")

    def clear_error(self) -> None:
        self.error.clear()
        self.error.hide()

    def run_selected(self, cases=None) -> asyncio.Task | None:
        """Run the checked cases (or `cases`); returns the run's task, None if it cannot start."""
        if self.running:
            return None
        self.clear_error()
        cases = list(cases) if cases is not None else self.catalog.checked_cases()
        if not cases:
            self.fail("Check one or more cases in the catalog first.")
            return None
        kinds = sorted({(c.version, c.sut) for c in cases})
        if len(kinds) > 1:
            self.fail("The checked cases mix " + " and ".join(
                f"OCPP {v} {SUT_NAMES[k].lower()}" for v, k in kinds)
                + "; run one version and SUT kind at a time.")
            return None
        version, sut = kinds[0]
        self._set_sut(version, sut)
        try:
            options = self.options(version, sut)
        except ValueError as exc:
            self.fail(str(exc))
            return None
        self.save_settings()
        self.host.ensure_capture()
        self.result, self.html_path = None, None
        self.results.clear_run()
        self.counts = {v: 0 for v in Verdict}
        self._total = len(cases)
        self._started_at = time.monotonic()
        self._show_counts()
        self.status.setStyleSheet("color: #444;")
        self.status.setText("Starting…")
        self.task = self.host.spawn(self._run(options, cases), "conformance run")
        self._update_buttons()
        return self.task

    async def _run(self, options: RunOptions, cases: list) -> None:
        result = None
        # the runner lives on the roles' loop; its events and prompts come back to this thread
        runner = SuiteRunner(options, hub=self.host.hub,
                             prompt=run_in(asyncio.get_running_loop(), self._ask_operator),
                             on_event=self.host.from_roles(self._on_event),
                             charger_factory=self.charger_factory)
        self.runner = runner
        try:
            try:
                await self.host.on_roles(runner.start())
            except SuiteError as exc:
                self.fail(f"Cannot start the run: {exc}")
                self.status.setText("The run could not start.")
                return
            self._show_endpoint(runner)
            result = await self.host.on_roles(runner.run(cases))
        except SuiteError as exc:
            self.fail(f"Conformance run: {exc}")
        except asyncio.CancelledError:
            self.status.setText("Run stopped.")
            raise
        except Exception as exc:  # noqa: BLE001 - one readable line, the traceback in the log
            log.debug("conformance run failed", exc_info=exc)
            self.fail(f"Conformance run failed: {describe(exc)}")
        finally:
            self._close_prompt()
            try:
                await asyncio.wait_for(self.host.on_roles(runner.stop()), 10)
            except Exception:  # noqa: BLE001 - stopping must go on
                log.debug("stopping the runner failed", exc_info=True)
            runner.close()
            self.runner = None
            self.task = None
            if result is not None:
                self.result = result
                self._finished(result)
            self._show_url()
            self._update_buttons()
            self.run_finished.emit(result)

    def _show_endpoint(self, runner: SuiteRunner) -> None:
        if runner.sut == "charger":
            self.url.set_url(runner.endpoint)
            self.use_for_charger.setEnabled(not runner.options.auto)
            self.url_hint.setText(
                f"--auto: the simulated charger connects as …/{runner.options.charge_point_id}"
                if runner.options.auto else
                "the charger connects to this URL + its charge point id, e.g. …/CP001")

    def stop(self) -> None:
        """Stop button: the running step ends with an error, no further case starts."""
        if self.runner is not None and self.running:
            self.status.setText("Stopping…")
            self.host.engine.call(self.runner.cancel)
            self._close_prompt()

    async def shutdown(self) -> None:
        """The window closes: stop a run and wait (bounded) for the runner to let go."""
        self.save_settings()
        task = self.task
        if task is None or task.done():
            return
        self.stop()
        done, _ = await asyncio.wait({task}, timeout=5)
        if not done:
            task.cancel()
            await asyncio.wait({task}, timeout=5)

    # ---- events from the runner (the Qt thread) -----------------------------------------------

    def _on_event(self, event) -> None:
        if isinstance(event, StepFinished):
            self.results.step_finished(event.case_id, event.result)
        elif isinstance(event, StepStarted):
            item = self.results.step(event.case_id, event.index)
            if item is not None:
                self.results.set_pending(item, "running…")
        elif isinstance(event, PromptRequested):
            item = self.results.step(event.request.case_id, event.request.step_index)
            if item is not None:
                auto = self.runner is not None and self.runner.options.auto
                self.results.set_pending(item, "simulator…" if auto else "operator…", "#9e7700")
        elif isinstance(event, CaseStarted):
            self.results.case_started(event)
            self.status.setText(f"Running {event.case_id} ({event.number} of {event.total}): "
                                f"{event.title}")
        elif isinstance(event, CaseFinished):
            self.results.case_finished(event.result)
            self.counts[event.result.verdict] += 1
            self._show_counts()
        elif isinstance(event, PromptDismissed):
            self.status.setText(f"Step {event.step_index}: {event.reason}")
        elif isinstance(event, SuiteStarted):
            self.status.setText(f"OCPP {event.version}, SUT {SUT_NAMES[event.sut].lower()}: "
                                f"{len(event.case_ids)} case(s); testing {event.tested}")
        elif isinstance(event, SuiteNote):
            self.status.setText(event.text)
            self.host.hub.publish(Notice(event.level if event.level in ("info", "warning", "error")
                                         else "info", event.text, "suite"))
        elif isinstance(event, SuiteFinished):
            pass  # handled when run() returns (_finished)

    def _show_counts(self) -> None:
        names = {Verdict.PASS: "passed", Verdict.FAIL: "failed",
                 Verdict.INCONCLUSIVE: "inconclusive", Verdict.NOT_APPLICABLE: "not applicable",
                 Verdict.ERROR: "error"}
        for verdict, badge in self.badges.items():
            badge.setText(f"{self.counts[verdict]} {names[verdict]}")
        done = sum(self.counts.values())
        self.progress.setMaximum(max(self._total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{done} of {self._total} case(s)")

    def _finished(self, result) -> None:
        cancelled = len(result.cases) < self._total
        self.counts = {v: result.count(v) for v in Verdict}
        self._total = len(result.cases)
        self._show_counts()
        verdict = "PASSED" if result.passed else "FAILED"
        self.status.setText(f"{verdict}{' (stopped)' if cancelled else ''}: {result.summary()}")
        colour = VERDICT_COLOURS[Verdict.PASS if result.passed else Verdict.FAIL]
        self.status.setStyleSheet(f"color: {colour}; font-weight: 600;")
        self.host.hub.publish(Notice("info", f"conformance run: {result.summary()}", "suite"))

    # ---- operator prompts ----------------------------------------------------------------------

    async def _ask_operator(self, request: PromptRequest) -> PromptReply:
        """The runner's prompt callback: show the dialog, await its answer (loop keeps running)."""
        self._close_prompt()
        future = asyncio.get_running_loop().create_future()
        dialog = PromptDialog(request, self.window())
        dialog.answered.connect(lambda reply: future.done() or future.set_result(reply))
        self.prompt_dialog = dialog
        self.status.setText(f"Waiting for the operator: {request.text}")
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        try:
            return await future
        finally:
            # answered, timed out or cancelled (Stop): the dialog goes either way
            if self.prompt_dialog is dialog:
                self.prompt_dialog = None
            if dialog.reply is None:  # closing it must not answer again
                dialog.reply = PromptReply.skip("closed")
            dialog.close()
            dialog.deleteLater()

    def _close_prompt(self) -> None:
        dialog, self.prompt_dialog = self.prompt_dialog, None
        if dialog is not None:
            dialog.close()
