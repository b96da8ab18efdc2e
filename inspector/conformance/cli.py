"""`ocpp-inspector suite list|run`: the conformance engine on the command line.

The parser lives in `inspector.cli`; this module does the work. Errors are one line on
stderr; the exit code is 0 only when every selected case passed.
"""

from __future__ import annotations

import asyncio
import queue
import signal
import sys
import threading
from pathlib import Path

from .events import (CaseFinished, CaseStarted, PromptDismissed, PromptReply, PromptRequested,
                     StepFinished, SuiteNote, SuiteStarted)
from ..terminal import printable
from .model import Verdict

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_CAPTURE_FAILED = 0, 1, 2, 130, 3


class _Usage(Exception):
    pass


def _error(text: str) -> None:
    print(f"ocpp-inspector: error: {text}", file=sys.stderr, flush=True)


def run_suite_command(args) -> int:
    from .runner import SuiteError
    from ..roles.csms import OverrideError
    try:
        if args.suite_verb == "list":
            return _list(args)
        return _run(args)
    except _Usage as exc:
        _error(str(exc))
        return EXIT_USAGE
    except BrokenPipeError:  # `suite list | head`: the caller ends quietly
        raise
    except (SuiteError, OverrideError, ValueError, OSError) as exc:
        _error(str(exc))
        return EXIT_FAIL


# ---- list ----------------------------------------------------------------------------------

def _user_cases(args) -> list:
    """The cases of every --cases file (loaded beside the catalogue)."""
    from . import catalog
    return [case for path in args.case_files or () for case in catalog.load_user_cases(path)]


def _list(args) -> int:
    from . import catalog
    _user_cases(args)
    cases = catalog.list_cases(args.ocpp_version, args.sut)
    if not cases:
        print("no cases match", file=sys.stderr)
        return EXIT_OK
    width = max(len(c.id) for c in cases)
    print(f"{'ID':<{width}}  {'OCPP':<6} {'SUT':<8} {'group':<20} title")
    for case in cases:
        print(f"{case.id:<{width}}  {case.version:<6} {case.sut:<8} {case.group[:20]:<20} {case.title}")
    print(f"{len(cases)} case(s)", file=sys.stderr)
    return EXIT_OK


# ---- run -----------------------------------------------------------------------------------

def _number(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _params(items) -> dict:
    params = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise _Usage(f"bad --param {item!r}: expected KEY=VALUE, e.g. valid_tag=04A2B3C4")
        params[key.strip()] = _number(value.strip())
    return params


def _options(args):
    from ..roles.common import Listen, check_station_url
    from .runner import RunOptions
    if args.sut == "charger" and args.target:
        raise _Usage("--target is for --sut csms; a charger SUT connects to us (--listen HOST:PORT)")
    if args.sut == "csms" and args.listen:
        raise _Usage("--listen is for --sut charger; for a CSMS SUT give --target URL")
    if args.auto and args.target:
        raise _Usage(f"--simulate-sut tests ocpp-inspector's own simulated CSMS, not "
                     f"{args.target}: drop --simulate-sut to test that CSMS")
    if args.sut == "charger" and not args.listen and not args.auto:
        raise _Usage("--sut charger needs --listen HOST:PORT (where the charger connects)")
    if args.sut == "csms" and not args.target and not args.auto:
        raise _Usage("--sut csms needs --target URL ending in the charge point id "
                     "(or --simulate-sut to test our own simulated CSMS)")
    for name in ("step_timeout", "case_timeout", "connect_timeout", "operator_timeout"):
        if getattr(args, name) <= 0:
            raise _Usage(f"--{name.replace('_', '-')} must be a positive number of seconds")
    listen = None
    if args.listen:
        try:
            listen = Listen.parse(args.listen)
        except ValueError as exc:
            raise _Usage(str(exc)) from None
    if args.target:
        try:
            check_station_url(args.target)
        except ValueError as exc:
            raise _Usage(str(exc)) from None
    description = None
    if args.sut_config is not None:
        from .runner import SuiteError
        from .sut_config import load
        try:
            description = load(args.sut_config)
        except SuiteError as exc:
            raise _Usage(str(exc)) from None
    from ..cli_parser import UserError
    from ..cli_roles import client_tls_from, server_tls_from
    try:
        server_tls, client_tls = server_tls_from(args), client_tls_from(args)
    except UserError as exc:
        raise _Usage(str(exc)) from None
    if args.sut == "csms" and server_tls and not args.auto:
        raise _Usage("--cert/--key/--client-ca are for a charger SUT (our listener); towards a "
                     "CSMS SUT use --ca/--client-cert/--client-key")
    if args.sut == "charger" and client_tls and not args.auto:
        raise _Usage("--ca/--client-cert/--client-key are for a CSMS SUT; a charger SUT connects "
                     "to our listener (--cert/--key/--client-ca)")
    return RunOptions(version=args.ocpp_version, sut=args.sut, listen=listen, sut_config=description,
                      server_tls=server_tls, client_tls=client_tls,
                      target=args.target, auto=args.auto, step_timeout=args.step_timeout,
                      case_timeout=args.case_timeout, connect_timeout=args.connect_timeout,
                      operator_timeout=args.operator_timeout,
                      params=_params(args.param),
                      password=args.password)


def parse_answer(text: str) -> PromptReply | None:
    """An operator's typed answer, strictly: Enter / y / yes = done, `f REASON` / `fail REASON`
    = failed, `s` / `skip` = skipped; None for anything else (ask again)."""
    text = text.strip()
    word, _, rest = text.partition(" ")
    word = word.lower()
    if word in ("", "y", "yes") and not rest:
        return PromptReply.done("operator confirmed")
    if word in ("f", "fail", "failed"):
        return PromptReply.failed(rest.strip() or "the operator reported a failure")
    if word in ("s", "skip") and not rest:
        return PromptReply.skip("skipped by the operator")
    return None


class _StdinPrompt:
    """Operator prompts on the terminal; one reader thread feeds lines to the loop.

    Once stdin ends, every later prompt is answered at once as skipped (never a hang).
    Lines typed before a prompt appeared are dropped, so a late Enter for a prompt that
    ended by itself does not answer the next one."""

    def __init__(self):
        self._lines: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._ended = False

    def _reader(self) -> None:
        while True:
            line = sys.stdin.readline()
            self._lines.put(line)
            if not line:
                return

    def _drain(self) -> None:
        while not self._ended:
            try:
                if not self._lines.get_nowait():
                    self._ended = True
            except queue.Empty:
                return

    async def _next_line(self) -> str:
        if self._thread is None:
            self._thread = threading.Thread(target=self._reader, name="suite-stdin", daemon=True)
            self._thread.start()
        while not self._ended:
            try:
                line = self._lines.get_nowait()
            except queue.Empty:
                await asyncio.sleep(0.05)
                continue
            if not line:
                self._ended = True
            return line
        return ""

    async def __call__(self, request) -> PromptReply:
        self._drain()
        print(f"\n  >>> {request.case_id} step {request.step_index}: {printable(request.text)}",
              flush=True)
        if request.observe:
            print(f"      (ends by itself on {request.observe}; up to {request.timeout:g} s)",
                  flush=True)
        try:
            while True:
                print("      Enter/y when done; 'f REASON' if it failed; 's' to skip: ",
                      end="", flush=True)
                line = await self._next_line()
                if not line:
                    print(flush=True)
                    return PromptReply.skip("needs an operator (stdin closed)")
                reply = parse_answer(line)
                if reply is not None:
                    return reply
                print(f"      not understood: {line.strip()!r}", flush=True)
        except asyncio.CancelledError:  # observed: the printer says so on its own line
            raise


def _printer(verbose: bool, interactive: bool):
    def on_event(event):
        if isinstance(event, SuiteStarted):
            print(f"[suite] testing {printable(event.tested)}", file=sys.stderr, flush=True)
        elif isinstance(event, SuiteNote):
            print(f"[suite] {printable(event.text)}", file=sys.stderr, flush=True)
        elif isinstance(event, CaseStarted):
            print(f"\n[{event.number}/{event.total}] {event.case_id}  {event.title}", flush=True)
        elif isinstance(event, StepFinished):
            step = event.result
            verdict = step.verdict.label if step.verdict else "-"
            print(f"   {step.index:>2} {verdict:<14} {printable(step.title)}", flush=True)
            if step.reason and (verbose or step.verdict is not Verdict.PASS):
                print(f"   {'':17}-> {printable(step.reason)}", flush=True)
            for note in step.notes:
                print(f"   {'':17}note: {printable(note)}", flush=True)
        elif isinstance(event, CaseFinished):
            result = event.result
            print(f"   => {result.verdict.label} ({result.duration:.2f} s)", flush=True)
        elif isinstance(event, PromptRequested):
            if event.request.observe and not interactive:
                print(f"   .. waiting up to {event.request.timeout:g} s"
                      + (f" for {event.request.observe}" if event.request.observe else "")
                      + f" (operator step: {event.request.text})", flush=True)
        elif isinstance(event, PromptDismissed):
            if interactive:
                print(f"      -> {printable(event.reason)}", flush=True)
    return on_event


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):  # closed
        return False


def _run(args) -> int:
    from ..events import Hub
    from ..cli_roles import capture_error_printer, capture_failed
    from ..store import CaptureWriter
    from . import catalog, report
    from .runner import SuiteRunner

    options = _options(args)
    mine = _user_cases(args)
    if mine and not args.cases:  # --cases FILE alone: the file's cases for this version and SUT
        cases = [c for c in mine if c.version == options.version and c.sut == options.sut]
        if not cases:
            raise _Usage(f"no case in {', '.join(str(p) for p in args.case_files)} is for OCPP "
                         f"{options.version} with SUT {options.sut}")
    else:
        cases = catalog.select(options.version, options.sut, args.cases)
    for path in (args.junit, args.html):
        if path is not None and not Path(path).parent.exists():
            raise _Usage(f"cannot write {path}: the folder {Path(path).parent} does not exist")
    hub = Hub()
    writer = None
    if args.db:
        try:
            writer = CaptureWriter(args.db)
        except Exception as exc:
            raise _Usage(f"cannot open capture file {args.db}: {exc}") from None
        writer.attach(hub)
        writer.on_error = capture_error_printer()
    interactive = not (args.auto or args.non_interactive or not _stdin_is_terminal())
    runner = SuiteRunner(options, hub=hub, prompt=_StdinPrompt() if interactive else None,
                         on_event=_printer(args.verbose, interactive))
    interrupted = False

    async def main():
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()

        def on_signal():
            nonlocal interrupted
            if interrupted:  # second Ctrl+C: stop at once
                task.cancel()
            interrupted = True
            runner.cancel()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, on_signal)
            except (NotImplementedError, RuntimeError):
                pass
        return await runner.run(cases)

    try:
        result = asyncio.run(main())
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if writer is not None:
            writer.close()
    print(f"\n{result.summary()}", flush=True)
    for case in result.cases:
        if not case.passed:
            print(f"  {case.verdict.label:<14} {case.case_id}: {printable(case.reason)}")
    if args.junit:
        report.write_junit(result, args.junit)
        print(f"JUnit report: {args.junit}", file=sys.stderr)
    if args.html:
        report.write_html(result, args.html)
        print(f"HTML report: {args.html}", file=sys.stderr)
    if args.db:
        print(f"frames logged to {args.db}", file=sys.stderr)
    if capture_failed(writer):
        return EXIT_CAPTURE_FAILED  # the frames behind the verdicts are not all saved
    if interrupted:
        return EXIT_INTERRUPTED
    return result.exit_code
