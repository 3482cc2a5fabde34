"""tootback's benchmark: one table of ratios, measured in one run on this machine.

    python -m bench.run              N = 10,000 and 100,000, 5 runs each, medians
    python -m bench.run --quick      N = 2,000, 1 run: a smoke test for CI (no verdicts)

Every timed command runs in a fresh process (cold Python, warm OS file cache),
timed and measured from a small wrapper process: wall time of the child, and
its peak RSS from `getrusage(RUSAGE_CHILDREN)`. Runs of the compared commands
are interleaved, so a noisy neighbour slows both sides of a ratio alike. The
archives are `bench/generate.py`'s, shaped like the real export (indented
parts, real-looking tweets); the machine and its load average are printed.

- cold load: `load_archive()` of the official folder (its compact variant, zip
  and markdown too), from the first read to `Tweet`s, text repaired; compared
  with bare stdlib `json.loads` of the same `tweets*.js` files (already read and
  decoded: only the parse is timed, the strictest comparison);
- `tootback preview --date D`: cold (no index yet: full read, index written)
  with its peak RSS, and warm (index present), compared with
  `python -c "import pydantic_settings"` (the settings library every command
  needs);
- `tootback status`, and `tootback repost --date D` of a day already posted
  (against the loopback stand-in `tests/support/fake_mastodon.py`), compared
  with warm `preview`; `tootback calendar` of a year, when the command exists;
- `tootback daemon`: its resident memory once it has planned the day and idles;
- `tootback --version` compared with `python -c pass`;
- requests per posted toot and per run, against the stand-in, with
  `tootback repost` as a real process.

Every child runs with Python's bytecode cache, as an installed tootback does
(pip compiles a wheel's modules when it installs them): `bot/` is compiled
first and `PYTHONDONTWRITEBYTECODE` is dropped from the children's
environment, else each run would compile tootback's sources anew.

Generated archives are kept in bench/.data/ (gitignored; `--data` moves it);
`--quick` uses a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.generate import Generated, ensure
from tests.support.processes import clean_environ

ROOT = Path(__file__).resolve().parent.parent

DAY = "2026-04-05"
TARGETS = {
    "load": 1.0,
    "warm": 1.3,
    "status": 1.0,
    "repost": 1.0,
    "version": 3.0,
    "rss": 250.0,
    "daemon": 60.0,
}
TOKEN = "test-token"

# Runs `argv`, prints its exit code, wall seconds and peak RSS (ru_maxrss: KiB on
# Linux, bytes on macOS) as JSON. Only the child is measured, not this wrapper.
_WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
wall = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"code": done.returncode, "wall": wall, "rss": rss,
                  "out": done.stdout.decode(errors="replace")[-2000:],
                  "err": done.stderr.decode(errors="replace")[-2000:]}))
"""

# In-process timings (imports excluded), printed as JSON by a fresh interpreter.
_LOAD = """
import json, sys, time
from pathlib import Path
from bot.archive import load_archive
start = time.perf_counter()
archive = load_archive(Path(sys.argv[1]))
print(json.dumps({"seconds": time.perf_counter() - start, "tweets": len(archive.tweets)}))
"""
_JSON = """
import gc, json, sys, time
from pathlib import Path
texts = []
for name in sys.argv[2:]:
    text = Path(name).read_bytes().decode("utf-8")
    texts.append(text[text.index("[", text.index("=")):])
if sys.argv[1] == "nogc":
    gc.disable()
start = time.perf_counter()
count = sum(len(json.loads(text)) for text in texts)
print(json.dumps({"seconds": time.perf_counter() - start, "tweets": count}))
"""


@dataclass
class Samples:
    """Measurements of one quantity, one per run."""

    values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")


@dataclass
class Result:
    """One child process: exit code, wall seconds, peak RSS in MiB, output."""

    code: int
    wall: float
    rss_mb: float
    out: str
    err: str


def measure(argv: Sequence[str], env: dict[str, str], cwd: Path) -> Result:
    """Run argv in a fresh process through the wrapper; raise if it fails."""
    raw = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *argv],
        env=env,
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    data = json.loads(raw)
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    result = Result(data["code"], data["wall"], data["rss"] / scale, data["out"], data["err"])
    if result.code != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({result.code}):\n{result.err}")
    return result


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a measured child: a fresh shell's, with the bytecode cache on."""
    env = clean_environ(**extra)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def compile_sources() -> None:
    """Write the bytecode cache of `bot/`, as installing a wheel does."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "bot")], check=True)


def tootback_command() -> list[str]:
    """The console script beside this Python, else `python -m bot`."""
    script = Path(sys.executable).with_name("tootback")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def interleaved(runs: int, jobs: dict[str, Callable[[], float]]) -> dict[str, Samples]:
    """Each job run `runs` times, in turns; returns the samples by name."""
    samples = {name: Samples() for name in jobs}
    for _ in range(runs):
        for name, job in jobs.items():
            samples[name].values.append(job())
    return samples


# -- the measurements -----------------------------------------------------------------------


@dataclass
class SizeReport:
    """Everything measured for one archive size: seconds and peak RSS (MiB) by measure."""

    n: int
    seconds: dict[str, Samples]
    rss: dict[str, Samples]
    daemon: dict[str, Samples]  # "idle" and "peak" resident memory of the daemon, MiB
    calendar: bool  # whether `tootback calendar` exists (else its rows say n/a)


def measure_size(data: Generated, runs: int, work: Path) -> SizeReport:
    """Every measure of one archive size (see the module docstring)."""
    seconds = measure_loads(data, runs, work)
    rss: dict[str, Samples] = {}
    seconds["cold"], rss["cold"] = measure_cold_preview(data, runs, work)
    with posted_day(data, work) as env:
        calendar = has_command("calendar", env, work)
        timed, peaks = measure_warm(data, runs, work, env, calendar)
        seconds |= timed
        rss |= peaks
        daemon = measure_daemon(data, max(1, min(runs, 3)), work, env)
    return SizeReport(data.n, seconds, rss, daemon, calendar)


def measure_loads(data: Generated, runs: int, work: Path) -> dict[str, Samples]:
    """In-process loads of each variant, and bare `json.loads` of the parts."""
    env = child_env()

    def seconds(code: str, *args: str) -> Callable[[], float]:
        def job() -> float:
            out = measure([sys.executable, "-c", code, *args], env, work).out
            return float(json.loads(out)["seconds"])

        return job

    files = [str(f) for f in data.tweet_files]
    compact = [str(f) for f in data.compact_files]
    return interleaved(
        runs,
        {
            "json": seconds(_JSON, "gc", *files),
            "json_nogc": seconds(_JSON, "nogc", *files),
            "json_compact": seconds(_JSON, "gc", *compact),
            "official": seconds(_LOAD, str(data.folder)),
            "compact": seconds(_LOAD, str(data.compact)),
            "zip": seconds(_LOAD, str(data.zip)),
            "markdown": seconds(_LOAD, str(data.markdown)),
        },
    )


def preview_command(data: Generated) -> list[str]:
    return [*tootback_command(), "preview", "--date", DAY, "--archive", str(data.folder)]


def measure_cold_preview(data: Generated, runs: int, work: Path) -> tuple[Samples, Samples]:
    """`preview` with no index yet (each run in a new index folder): seconds, peak RSS."""
    wall, rss = Samples(), Samples()
    for run in range(runs):
        index = work / f"index-{data.n}-cold-{run}"
        result = measure(preview_command(data), child_env(**index_dir(index)), work)
        wall.values.append(result.wall)
        rss.values.append(result.rss_mb)
        shutil.rmtree(index)
    return wall, rss


def index_dir(folder: Path) -> dict[str, str]:
    return {"TOOTBACK_ARCHIVE__INDEX_DIR": str(folder)}


@contextmanager
def posted_day(data: Generated, work: Path) -> Iterator[dict[str, str]]:
    """A stand-in server, an index, and a state file in which DAY is posted.

    Yields the environment of a `tootback` run against that server, state and index.
    """
    from tests.support.fake_mastodon import Budget, FakeMastodon

    plenty = Budget(10**9, 1.0)
    with FakeMastodon(
        media_processing_polls=0, api_budget=plenty, statuses_budget=plenty, media_budget=plenty
    ) as server:
        env = child_env(
            MASTODON_API_BASE_URL=server.url,
            MASTODON_ACCESS_TOKEN=TOKEN,
            TOOTBACK_STATE__PATH=str(work / f"state-{data.n}" / "state.json"),
            TOOTBACK_SCHEDULE__MIN_INTERVAL="0",
            **index_dir(work / f"index-{data.n}"),
        )
        measure(preview_command(data), env, work)  # builds the index
        done = measure(repost_command(data), env, work)
        if not server.statuses() or "failed" in done.out:
            raise SystemExit(f"posting {DAY} did not go as planned:\n{done.out}\n{done.err}")
        yield env


def repost_command(data: Generated) -> list[str]:
    return [*tootback_command(), "repost", "--date", DAY, "--archive", str(data.folder)]


def has_command(name: str, env: dict[str, str], work: Path) -> bool:
    done = subprocess.run(
        [*tootback_command(), name, "--help"], env=env, cwd=work, capture_output=True
    )
    return done.returncode == 0


def measure_warm(
    data: Generated, runs: int, work: Path, env: dict[str, str], calendar: bool
) -> tuple[dict[str, Samples], dict[str, Samples]]:
    """Warm `preview`, `status`, `repost` of the posted day and `calendar`, interleaved
    with `import pydantic_settings`: seconds and peak RSS by name."""
    archive = ["--archive", str(data.folder)]
    commands = {
        "warm": preview_command(data),
        "pydantic_settings": [sys.executable, "-c", "import pydantic_settings"],
        "status": [*tootback_command(), "status", *archive],
        "repost": repost_command(data),
    }
    if calendar:
        commands["calendar"] = [*tootback_command(), "calendar", *archive]
    peaks = {name: Samples() for name in commands}

    def job(name: str) -> Callable[[], float]:
        def run() -> float:
            result = measure(commands[name], env, work)
            if name == "repost" and "posted" in result.out.replace("already posted", ""):
                raise SystemExit(f"repost of a posted day posted something:\n{result.out}")
            peaks[name].values.append(result.rss_mb)
            return result.wall

        return run

    return interleaved(runs, {name: job(name) for name in commands}), peaks


def measure_daemon(
    data: Generated, runs: int, work: Path, env: dict[str, str]
) -> dict[str, Samples]:
    """`tootback daemon` against the stand-in: resident and peak memory (MiB) once it has
    planned today and gone quiet, then stopped with SIGTERM."""
    idle, peak = Samples(), Samples()
    argv = [*tootback_command(), "daemon", "--log-format", "json", "--archive", str(data.folder)]
    # No catch-up: the toots due earlier today are logged as missed, not posted now.
    daemon_env = env | {"TOOTBACK_SCHEDULE__CATCH_UP": "0"}
    for _ in range(runs):
        # Unbuffered: lines a buffered reader had taken in would not wake the select()
        # of `_wait_until_planned`, which then waited out its 300 s (a flaky CI run).
        process = subprocess.Popen(
            argv,
            env=daemon_env,
            cwd=work,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            bufsize=0,
        )
        try:
            _wait_until_planned(process)
            memory = _memory(process.pid)
            idle.values.append(memory.get("VmRSS", float("nan")))
            peak.values.append(memory.get("VmHWM", float("nan")))
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    return {"idle": idle, "peak": peak}


def _wait_until_planned(process: subprocess.Popen[bytes], quiet: float = 1.0) -> None:
    """Read the daemon's log until a day is planned and nothing more comes for `quiet` s."""
    assert process.stderr is not None
    stream = process.stderr
    planned = False
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], quiet)
        if not ready:
            if planned:
                return
            continue
        line = stream.readline()
        if not line:
            raise SystemExit(f"the daemon stopped (exit {process.wait()})")
        event = json.loads(line)
        if event.get("event") == "fatal":
            raise SystemExit(f"the daemon failed: {event.get('message')}")
        planned = planned or (event.get("event") == "planned" and "day" in event)
    raise SystemExit("the daemon did not plan its day within 300 s")


def _memory(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of a process, MiB (Linux; empty elsewhere)."""
    found: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0]) / 1024
    except OSError:
        pass
    return found


def measure_startup(runs: int, work: Path) -> dict[str, Samples]:
    """`tootback --version` and `python -c pass`, interleaved."""
    env = child_env()
    return interleaved(
        runs,
        {
            "version": lambda: measure([*tootback_command(), "--version"], env, work).wall,
            "pass": lambda: measure([sys.executable, "-c", "pass"], env, work).wall,
        },
    )


@dataclass
class Requests:
    """Requests counted against the stand-in for each kind of toot."""

    per_toot: dict[str, float]
    setup: dict[str, int]
    endpoints: list[str]


def measure_requests(data: Generated, work: Path, each: int, polls: int) -> Requests:
    """Post `each` toots of each kind with `tootback repost --tweet` and count requests.

    polls: how many times the stand-in answers 206 (processing) for a video.
    """
    from bot.archive import load_archive
    from tests.support.fake_mastodon import FakeMastodon

    kinds = pick_tweets(load_archive(data.folder).tweets, each)
    per_toot: dict[str, float] = {}
    setup: dict[str, int] = {}
    endpoints: set[str] = set()
    for kind, ids in kinds.items():
        with FakeMastodon(media_processing_polls=polls) as server:
            state = work / f"state-{kind}" / "state.json"
            env = child_env(
                MASTODON_API_BASE_URL=server.url,
                MASTODON_ACCESS_TOKEN=TOKEN,
                TOOTBACK_STATE__PATH=str(state),
                TOOTBACK_SCHEDULE__MIN_INTERVAL="0",
                **index_dir(work / "index-requests"),
            )
            tweets = [arg for tid in ids for arg in ("--tweet", tid)]
            measure(
                [*tootback_command(), "repost", "--archive", str(data.folder), *tweets], env, work
            )
            posting = [r for r in server.requests() if _is_posting(r.method, r.path)]
            others = [r for r in server.requests() if not _is_posting(r.method, r.path)]
            if len(server.statuses()) != len(ids):
                raise SystemExit(f"{kind}: {len(server.statuses())} statuses for {len(ids)} tweets")
            per_toot[kind] = len(posting) / len(ids)
            setup[kind] = len(others)
            endpoints |= {f"{r.method} {_shape(r.path)}" for r in others}
    return Requests(per_toot, setup, sorted(endpoints))


def pick_tweets(tweets: Sequence[object], each: int) -> dict[str, list[str]]:
    """`each` short original tweets of each kind: text only, one photo, one video."""
    from bot.model import Tweet

    picked: dict[str, list[str]] = {"text only": [], "one photo": [], "one video": []}
    for tweet in tweets:
        assert isinstance(tweet, Tweet)
        if tweet.is_retweet or tweet.in_reply_to_id or len(tweet.text) > 300:
            continue
        kinds = [m.kind for m in tweet.media if m.problem is None]
        kind = {(): "text only", ("image",): "one photo", ("video",): "one video"}.get(tuple(kinds))
        if kind is not None and len(kinds) == len(tweet.media) and len(picked[kind]) < each:
            picked[kind].append(tweet.id)
    return {kind: ids for kind, ids in picked.items() if ids}


def _is_posting(method: str, path: str) -> bool:
    return (method, path) == ("POST", "/api/v1/statuses") or path.startswith(
        ("/api/v1/media", "/api/v2/media")
    )


def _shape(path: str) -> str:
    return "/".join(":id" if part.isdigit() else part for part in path.split("/"))


# -- the report -----------------------------------------------------------------------------


def machine() -> str:
    """CPU model, cores, Python and OS, for the table's caption."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def load_average() -> str:
    try:
        return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


def table(sizes: list[SizeReport], startup: dict[str, Samples], quick: bool) -> list[str]:
    """The main table, markdown, one column per archive size; verdicts on the largest."""
    version, bare = startup["version"].median, startup["pass"].median
    head = "| measure | " + " | ".join(f"N = {s.n:,}" for s in sizes) + " | target |"
    lines = [head, "|---|" + "---:|" * len(sizes) + "---|"]

    def row(name: str, cells: list[str], target: str = "") -> None:
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {target} |")

    def sec(name: str) -> list[str]:
        return [_or_na(s, name, lambda s: f"{s.seconds[name].median:.3f} s") for s in sizes]

    def mb(name: str, limit: float | None = None) -> list[str]:
        def cell(s: SizeReport) -> str:
            return _verdict(s.rss[name].median, limit, quick or s is not sizes[-1], " MB", 0)

        return [_or_na(s, name, cell) for s in sizes]

    def ratio(top: str, bottom: str, limit: float | None = None) -> list[str]:
        def cell(s: SizeReport) -> str:
            value = s.seconds[top].median / s.seconds[bottom].median
            return _verdict(value, limit, quick or s is not sizes[-1])

        return [_or_na(s, top, cell) for s in sizes]

    row("bare `json.loads` of the tweets*.js files (indented)", sec("json"))
    row("cold load, official folder (indented)", sec("official"))
    row("**ratio** cold load / `json.loads`", ratio("official", "json", TARGETS["load"]), "≤ 1.0×")
    row("bare `json.loads` of the compact variant", sec("json_compact"))
    row("cold load, compact variant", sec("compact"))
    row("ratio compact load / its `json.loads`", ratio("compact", "json_compact"))
    row("cold load, official .zip", sec("zip"))
    row("ratio .zip load / `json.loads`", ratio("zip", "json"))
    row("cold load, markdown (same tweets)", sec("markdown"))
    row("`json.loads` with the GC paused (for reference)", sec("json_nogc"))
    row("ratio cold load / GC-paused `json.loads`", ratio("official", "json_nogc"))
    row("cold `preview` (reads all, writes the index)", sec("cold"))
    row("**peak RSS** of cold `preview`", mb("cold", TARGETS["rss"]), "≤ 250 MB")
    row("warm `preview` (index present)", sec("warm"))
    row("peak RSS of warm `preview`", mb("warm"))
    row('`python -c "import pydantic_settings"`', sec("pydantic_settings"))
    row(
        "**ratio** warm `preview` / `import pydantic_settings`",
        ratio("warm", "pydantic_settings", TARGETS["warm"]),
        "≤ 1.3×",
    )
    row("`status`", sec("status"))
    row("peak RSS of `status`", mb("status"))
    row("**ratio** `status` / warm `preview`", ratio("status", "warm", TARGETS["status"]), "≤ 1.0×")
    row("`repost` of a day already posted", sec("repost"))
    row("peak RSS of `repost` of a posted day", mb("repost"))
    row(
        "**ratio** `repost` (posted day) / warm `preview`",
        ratio("repost", "warm", TARGETS["repost"]),
        "≤ 1.0×",
    )
    daemon = [
        _verdict(s.daemon["idle"].median, TARGETS["daemon"], quick or s is not sizes[-1], " MB", 0)
        for s in sizes
    ]
    row("**daemon resident memory**, idle after planning", daemon, "≤ 60 MB")
    row("daemon peak memory", [f"{s.daemon['peak'].median:.0f} MB" for s in sizes])
    row("`calendar` of a year", sec("calendar"))
    row("peak RSS of `calendar`", mb("calendar"))
    row("`tootback --version`", [f"{version:.3f} s"] * len(sizes))
    row("`python -c pass`", [f"{bare:.3f} s"] * len(sizes))
    cells = [_verdict(version / bare, TARGETS["version"], quick)] * len(sizes)
    row("**ratio** `tootback --version` / `python -c pass`", cells, "≤ 3×")
    return lines


def _or_na(report: SizeReport, name: str, cell: Callable[[SizeReport], str]) -> str:
    """The cell, or "n/a" for a measure of a command this version does not have."""
    return cell(report) if name in report.seconds else "n/a"


def _verdict(
    value: float, limit: float | None, plain: bool, unit: str = "×", digits: int = 2
) -> str:
    text = f"{value:.{digits}f}{unit}"
    if limit is None or plain:
        return text
    return f"{text} {'✓' if value <= limit else '✗'}"


def requests_table(found: Requests) -> list[str]:
    lines = ["| toot | requests per toot | setup requests per run |", "|---|---:|---:|"]
    for kind, count in found.per_toot.items():
        lines.append(f"| {kind} | {count:g} | {found.setup[kind]} |")
    lines.append("")
    lines.append("Setup requests: " + ", ".join(f"`{e}`" for e in found.endpoints) + ".")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 2,000, one run (CI smoke test)")
    parser.add_argument("--sizes", default="10000,100000", help="archive sizes, comma-separated")
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (median)")
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / ".data")
    args = parser.parse_args(argv)
    sizes = [2000] if args.quick else [int(n) for n in args.sizes.split(",")]
    runs = 1 if args.quick else args.runs
    before = load_average()
    compile_sources()
    with tempfile.TemporaryDirectory(prefix="tootback-bench-") as temp:
        work = Path(temp)
        data_dir = work / "data" if args.quick else args.data
        archives = [ensure(n, data_dir) for n in sizes]
        reports = [measure_size(a, runs, work) for a in archives]
        startup = measure_startup(max(runs, 3) if not args.quick else 1, work)
        polls = 0 if args.quick else 2  # each poll waits for real (the client's backoff)
        requests = measure_requests(archives[0], work, 1 if args.quick else 3, polls)
    print(f"Machine: {machine()}; medians of {runs} run(s); preview and repost date {DAY}.")
    print(f"Before: {before}; after: {load_average()}.\n")
    print("\n".join(table(reports, startup, args.quick)))
    print()
    print("\n".join(requests_table(requests)))
    print(f"The stand-in answers 206 (still processing) to the first {polls} poll(s) of a video.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
