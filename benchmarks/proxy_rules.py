"""What proxy rules cost: the same traffic through three proxies measured in one run.

    python -m benchmarks.proxy_rules

- `no rules`: `ocpp-inspector proxy` as before rules existed (the baseline);
- `empty rule file`: `--rules` with a file holding no rule: must cost nothing (the byte pipe
  stays the fast path), so its ratios to the baseline should read ~1.00;
- `rule that never matches`: one enabled rule on an action the traffic never has, so every
  message goes through the rule gate (read before forwarded): what watching costs.

Rounds alternate between the proxies so a slow spell of this shared machine hits all of
them; the ratios are medians of per-round ratios against the baseline.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from .proxy import payload_for_benchmark, round_trips, start_echo, throughput
from .timing import percentile, start_cli, stop

ROUNDS = 7
LATENCY_CALLS = 2000

VARIANTS = {
    "no rules": None,
    "empty rule file": "",
    "rule that never matches": '[[rule]]\nname = "never"\naction = "Reset"\ndo = "drop"\n',
}


def measure(payload_text: str) -> dict:
    echo, echo_url = start_echo()
    proxies, urls = [], {}
    try:
        with tempfile.TemporaryDirectory() as folder:
            for index, (name, rules) in enumerate(VARIANTS.items()):
                extra = []
                if rules is not None:
                    path = Path(folder) / f"rules{index}.toml"
                    path.write_text(rules, encoding="utf-8")
                    extra = ["--rules", str(path)]
                process, url = start_cli("proxy", "--listen", "127.0.0.1:0", "--upstream", echo_url,
                                         "--db", str(Path(folder) / f"bench{index}.db"), "-q", *extra)
                proxies.append(process)
                urls[name] = url
            for url in urls.values():  # warm up (schema compilation, connection setup)
                asyncio.run(round_trips(url + "W", 200, payload_text))
            result = {name: {"latency": [], "rates": []} for name in VARIANTS}
            for _ in range(ROUNDS):
                for name, url in urls.items():
                    result[name]["latency"] += asyncio.run(
                        round_trips(url + "L", LATENCY_CALLS // ROUNDS, payload_text))
                    result[name]["rates"].append(asyncio.run(throughput(url, payload_text)))
            return result
    finally:
        for process in proxies:
            stop(process)
        stop(echo)


def report(result: dict) -> None:
    base = result["no rules"]
    b50, b99 = percentile(base["latency"], 0.5), percentile(base["latency"], 0.99)
    print(f"1.6 MeterValues through the proxy, {ROUNDS} alternating rounds "
          f"({LATENCY_CALLS} sequential calls and a 20-charger throughput run per proxy):")
    for name, m in result.items():
        p50, p99 = percentile(m["latency"], 0.5), percentile(m["latency"], 0.99)
        ratios = sorted(r / b for r, b in zip(m["rates"], base["rates"]))
        print(f"  {name:<24} p50 {p50:.3f} ms  p99 {p99:.3f} ms  best {max(m['rates']):,.0f} calls/s"
              f"  | vs no rules: p50 {p50 / b50:.2f}x  p99 {p99 / b99:.2f}x  "
              f"throughput {ratios[len(ratios) // 2]:.2f}x")


def main(argv) -> None:
    payload_text = payload_for_benchmark()
    report(measure(payload_text))


if __name__ == "__main__":
    main(sys.argv[1:])
