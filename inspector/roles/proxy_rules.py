"""The proxy's rule gate: one direction of a relayed connection while rules watch it.

Without rules the proxy forwards bytes before reading them. A gate reads first: bytes are
held until the frame reader has delimited the message they belong to, then every message
no rule acts on goes out as the exact bytes that came (masking, fragmentation and control
frames untouched), and a message a rule acts on is dropped, held back, rewritten, answered
or duplicated in its place. Only whole messages are ever held, so a gate adds at most one
message's worth of latency, and none once the rules stop watching this direction.

Every frame is logged as its receiver got it (at the time it got it): a delayed answer shows
the delay as latency, a patched one shows the patched text with the sender's original kept
beside it (`FrameRecord.original`), an injected one is logged in the direction it went, and
each carries a flag naming the rule.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

from .. import codec, flags
from ..events import TO_CSMS, FrameLogged, opposite
from ..flags import Flag
from ..rules import Rule, RuleBook, Subject, changed_text, error_answer
from ..wsframes import Close, Message, close_frame, data_frame

_ORIGINAL_SHOWN = 300  # characters of the original quoted in a flag (all of it is stored)


class RuleGate:
    def __init__(self, leg, rules: RuleBook, interceptor=None):
        self.leg, self.rules, self.interceptor = leg, rules, interceptor
        self.held = bytearray()
        self.held_start = leg.frames.fed  # stream offset of held[0]: all before went out
        self.queue: deque = deque()  # (event, received) read but not yet acted on
        self.paused = None  # an intercepted message: everything after it waits

    @property
    def idle(self) -> bool:
        """Nothing held: the leg may go back to forwarding bytes as they come."""
        return not self.held and self.paused is None and not self.queue

    def receive(self, data: bytes, received: float) -> None:
        self.held += data
        events = self.leg.frames.feed(data)
        self.queue.extend((event, received) for event in events)
        if self.paused is not None and any(type(e) is Close for e in events):
            # the sender is closing: its close frame must not wait behind a paused frame
            self.interceptor.cancel(self.paused)
        self._drain()

    def _drain(self) -> None:
        leg = self.leg
        queue = self.queue
        while queue and self.paused is None:
            event, received = queue.popleft()
            if type(event) is Message and event.start >= self.held_start:
                text = leg.decoded(event)
                rule, frame = self._decide(text, received)
                if rule is not None:
                    self._forward(event.start)
                    raw = bytes(self.held[:event.end - self.held_start])
                    del self.held[:event.end - self.held_start]
                    self.held_start = event.end
                    self._act(rule, frame, text, raw, received)
                else:  # forwarded below with the bytes around it; parsed once
                    self._log(frame, text, received,
                              *self._undelivered(not leg.target.is_closing()))
                continue
            leg.log_event(event, received, not leg.target.is_closing())
        if self.paused is None:
            self._forward(leg.frames.settled)

    def _forward(self, upto: int) -> None:
        """Send the held bytes before stream offset `upto` as they came."""
        count = upto - self.held_start
        if count <= 0:
            return
        if not self.leg.target.is_closing():
            self.leg.target.write(bytes(self.held[:count]))
        del self.held[:count]
        self.held_start = upto

    def _decide(self, text, received: float):
        leg = self.leg
        monitor = leg.monitor
        frame = codec.parse(text[0], max_size=monitor.max_size)
        action = frame.action if frame.action else monitor.pending_action(leg.direction,
                                                                          frame.unique_id)
        info = monitor.connection
        subject = Subject(leg.direction, info.charge_point_id, info.id, frame, action,
                          info.opened_at or received, received)
        return self.rules.decide(subject), frame

    # ---- acting --------------------------------------------------------------------------

    def _act(self, rule: Rule, frame: codec.Frame, text, raw: bytes, received: float) -> None:
        do = rule.do
        if do == "drop":
            self._log(frame, text, received, Flag(flags.RULE_DROPPED,
                                                  f"dropped by rule {rule.name!r}: not forwarded"))
        elif do == "delay":
            self._later(rule.ms, lambda: self._deliver(raw, frame, text, Flag(
                flags.RULE_DELAYED, f"held {rule.ms} ms by rule {rule.name!r}")))
        elif do in ("patch", "replace"):
            self._later(rule.ms, lambda: self._change(rule, frame, text[0]))
        elif do == "callerror":
            self._log(frame, text, received, Flag(
                flags.RULE_ANSWERED, f"answered by rule {rule.name!r} with a CALLERROR: "
                                     f"not forwarded"))
            self._later(rule.ms, lambda: self._answer(rule, frame))
        elif do == "duplicate":
            self._later(rule.ms, lambda: self._duplicate(rule, raw, frame, text))
        elif do in ("close", "cut"):
            self._end(rule, frame, text, received)
        elif do == "intercept":
            self._pause(rule, frame, text, raw)

    def _pause(self, rule: Rule, frame, text, raw: bytes) -> None:
        if self.interceptor is None:  # no one to ask (headless): it goes on as it came
            self._deliver(raw, frame, text, Flag(flags.RULE_DELAYED, "not intercepted: "
                                                 "intercept needs the window"))
            return
        leg = self.leg

        def resolve(outcome: str, edited: str | None) -> None:
            self.paused = None
            held = f"held {time.time() - paused.since:.1f} s by intercept ({rule.name!r})"
            if outcome == "dropped":
                self._log(frame, text, time.time(), Flag(flags.RULE_DROPPED,
                                                         f"dropped by you; {held}"))
            elif outcome == "connection closed":
                self._log(frame, text, time.time(), Flag(
                    flags.RULE_DROPPED, f"not forwarded: the sender closed the connection "
                                        f"while it was paused; {held}"))
                return  # receive() drains what followed
            elif edited is not None and edited != text[0]:
                self._send_changed(edited, text[0], f"edited by you; {held}")
            else:
                self._deliver(raw, frame, text, Flag(flags.RULE_DELAYED, held))
            if not leg.target.is_closing():
                self._drain()  # what waited behind it
        info = leg.monitor.connection
        paused = self.interceptor.pause(info, leg.direction, text[0] if isinstance(text[0], str)
                                        else text[0].decode("latin-1"), frame.action or
                                        leg.monitor.pending_action(leg.direction, frame.unique_id),
                                        rule.name, resolve)
        self.paused = paused

    def _later(self, ms: int, action) -> None:
        if ms:
            asyncio.get_running_loop().call_later(ms / 1000, action)
        else:
            action()

    def _log(self, frame, text, when: float, *found: Flag, direction: str | None = None,
             original: str | None = None):
        leg = self.leg
        record = leg.monitor.observe(direction or leg.direction, frame, when)
        if text is not None and text[1]:
            record.flags.append(Flag(flags.BAD_UTF8, "text frame is not valid UTF-8"))
        record.flags.extend(found)
        record.original = original
        leg.hub.publish(FrameLogged(record))
        return record

    def _write(self, transport, data: bytes) -> bool:
        if transport.is_closing():
            return False
        transport.write(data)
        return True

    def _undelivered(self, delivered: bool) -> tuple:
        return () if delivered else (Flag(flags.NOT_DELIVERED,
                                          "not delivered: the other side had closed"),)

    def _deliver(self, raw: bytes, frame, text, flag: Flag) -> None:
        delivered = self._write(self.leg.target, raw)
        self._log(frame, text, time.time(), flag, *self._undelivered(delivered))

    def _change(self, rule: Rule, frame, original: str) -> None:
        new_text, problems = changed_text(rule, frame)
        verb = "patched" if rule.do == "patch" else "replaced"
        why = f"{verb} by rule {rule.name!r}"
        self._send_changed(new_text, original, why, problems)

    def _send_changed(self, new_text: str, original: str, why: str, problems=()) -> None:
        delivered = self._write(self.leg.target, data_frame(
            new_text, masked=self.leg.direction == TO_CSMS))
        shown = original if len(original) <= _ORIGINAL_SHOWN else original[:_ORIGINAL_SHOWN] + "…"
        message = f"{why}; original: {shown}"
        if problems:
            message += f" ({'; '.join(problems)})"
        self._log(codec.parse(new_text, max_size=self.leg.monitor.max_size), None, time.time(),
                  Flag(flags.RULE_CHANGED, message), *self._undelivered(delivered),
                  original=original)

    def _answer(self, rule: Rule, frame) -> None:
        back = opposite(self.leg.direction)
        answer = error_answer(rule, frame)
        delivered = self._write(self.leg.source, data_frame(answer, masked=back == TO_CSMS))
        self._log(codec.parse(answer), None, time.time(),
                  Flag(flags.RULE_INJECTED, f"sent by the proxy (rule {rule.name!r})"),
                  *self._undelivered(delivered), direction=back)

    def _duplicate(self, rule: Rule, raw: bytes, frame, text) -> None:
        delivered = self._write(self.leg.target, raw)
        self._log(frame, text, time.time(), *self._undelivered(delivered))
        for copy in range(1, rule.times + 1):
            delivered = self._write(self.leg.target, raw)
            self._log(frame, text, time.time(), Flag(
                flags.RULE_INJECTED, f"copy {copy} of {rule.times} sent by rule {rule.name!r}"),
                *self._undelivered(delivered))

    def _end(self, rule: Rule, frame, text, received: float) -> None:
        leg = self.leg
        if rule.do == "close":
            what = f"closed the connection ({rule.close_code} {rule.reason})".replace(" )", ")")
            leg.close = Close(rule.close_code, rule.reason or f"closed by proxy rule {rule.name}")
        else:
            what = "cut both TCP connections without a close frame"
            leg.close = Close(1006, f"cut by proxy rule {rule.name}")
        self._log(frame, text, received, Flag(flags.RULE_CLOSED, f"not forwarded: rule "
                                                                 f"{rule.name!r} {what}"))
        leg.hub.notice("warning", f"{leg.monitor.connection.charge_point_id}: proxy rule "
                                  f"{rule.name!r} {what}", "proxy")
        if rule.do == "close":
            for transport, masked in ((leg.target, leg.direction == TO_CSMS),
                                      (leg.source, leg.direction != TO_CSMS)):
                self._write(transport, close_frame(rule.close_code, rule.reason, masked=masked))
                transport.close()
        else:
            leg.target.abort()
            leg.source.abort()
