"""What the demo's attack must yield, worked out from the attack's own records (the bundled
Invictus fixture) and AWS's definitions, not from trailsight's output: a burst is ten or more
calls of one API in one minute (the demo's background calls these APIs a few times a day);
ApiCallRateInsight counts write management calls, ApiErrorRateInsight failed calls per error
code. The demo keeps the attack's time of day, so minutes are (hour, minute)."""
import gzip
import json
from collections import Counter
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[3] / "engine" / "fixtures" / "invictus" / "attack-bursts.json.gz"


def records():
    with gzip.open(FIXTURE) as f:
        return json.load(f)["Records"]


def minute_of(record):
    return int(record["eventTime"][11:13]), int(record["eventTime"][14:16])


def calls_per_minute(name, error_code=None, writes_only=False):
    """Counts of the API's calls (or failed calls with `error_code`) per (hour, minute)."""
    return Counter(
        minute_of(r) for r in records()
        if r["eventName"] == name and (error_code is None or r.get("errorCode") == error_code)
        and (not writes_only or r.get("readOnly") is False)
    )


def insights():
    """{(insight type, event name, error code or None)} the attack must raise."""
    bursts = Counter()
    for r in records():
        if r.get("readOnly") is False:
            bursts[("ApiCallRateInsight", r["eventName"], None, minute_of(r))] += 1
        if r.get("errorCode"):
            bursts[("ApiErrorRateInsight", r["eventName"], r["errorCode"], minute_of(r))] += 1
    return {key[:3] for key, n in bursts.items() if n >= 10}
