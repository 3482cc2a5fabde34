"""tootback's benchmark: one table of ratios, measured in one run on this machine.

    python -m bench.run              N = 10,000 and 100,000, 5 runs each, medians
    python -m bench.run --quick      N = 2,000, 1 run: a smoke test for CI (no verdicts)

Every timed command runs in a fresh process (cold Python, warm OS file cache),
timed and measured from a small wrapper process: wall time of the child, and
its peak RSS from `getrusage(RUSAGE_CHILDREN)`. Runs of the compared commands
are interleaved, so a noisy neighbour slows both sides of a ratio alike.

- cold load: `load_archive()` of the official folder (zip, markdown too), from
  the first read to `Tweet`s, text repaired; compared with bare stdlib
  `json.loads` of the same `tweets*.js` files (already read and decoded: only
  the parse is timed, the strictest comparison);
- `tootback preview --date D`: cold (no index yet: full read, index written)
  with its peak RSS, and warm (index present), compared with `tootback --version`,
  itself compared with `python -c pass`;
- requests per posted toot and per run, against the loopback stand-in
  `tests/support/fake_mastodon.py`, with `tootback repost` as a real process.

Generated archives are kept in bench/.data/ (gitignored; `--data` moves it);
`--quick` uses a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.generate import Generated, ensure
from tests.support.processes import clean_environ

ROOT = Path(__file__).resolve().parent.parent

DAY = "2026-04-05"
TARGETS = {"load": 1.0, "warm": 1.5, "version": 3.0, "rss": 250.0}

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
    """Everything measured for one archive size."""

    n: int
    seconds: dict[str, Samples]
    cold_preview: Samples
    cold_rss: Samples
    warm_preview: Samples
    warm_rss: Samples


def measure_size(data: Generated, runs: int, work: Path) -> SizeReport:
    """Cold loads, the JSON baseline, cold and warm preview for one archive."""
    env = clean_environ()

    def seconds(code: str, *args: str) -> Callable[[], float]:
        def job() -> float:
            out = measure([sys.executable, "-c", code, *args], env, work).out
            return float(json.loads(out)["seconds"])

        return job

    files = [str(f) for f in data.tweet_files]
    loads = interleaved(
        runs,
        {
            "json": seconds(_JSON, "gc", *files),
            "json_nogc": seconds(_JSON, "nogc", *files),
            "official": seconds(_LOAD, str(data.folder)),
            "zip": seconds(_LOAD, str(data.zip)),
            "markdown": seconds(_LOAD, str(data.markdown)),
        },
    )
    cold, cold_rss, warm, warm_rss = Samples(), Samples(), Samples(), Samples()
    preview = [*tootback_command(), "preview", "--date", DAY, "--archive", str(data.folder)]
    for run in range(runs):
        index = work / f"index-{data.n}-{run}"
        env = clean_environ(TOOTBACK_ARCHIVE__INDEX_DIR=str(index))
        first = measure(preview, env, work)
        cold.values.append(first.wall)
        cold_rss.values.append(first.rss_mb)
        again = measure(preview, env, work)
        if again.out != first.out:
            raise SystemExit("warm preview printed something else than the cold one")
        warm.values.append(again.wall)
        warm_rss.values.append(again.rss_mb)
        shutil.rmtree(index)
    return SizeReport(data.n, loads, cold, cold_rss, warm, warm_rss)


def measure_startup(runs: int, work: Path) -> dict[str, Samples]:
    """`tootback --version` and `python -c pass`, interleaved."""
    env = clean_environ()
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
            env = clean_environ(
                MASTODON_API_BASE_URL=server.url,
                MASTODON_ACCESS_TOKEN="test-token",
                TOOTBACK_STATE__PATH=str(state),
                TOOTBACK_SCHEDULE__MIN_INTERVAL="0",
                TOOTBACK_ARCHIVE__INDEX_DIR=str(work / "index-requests"),
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


def table(sizes: list[SizeReport], startup: dict[str, Samples], quick: bool) -> list[str]:
    """The main table, markdown, one column per archive size."""
    version, bare = startup["version"].median, startup["pass"].median
    head = "| measure | " + " | ".join(f"N = {s.n:,}" for s in sizes) + " | target |"
    lines = [head, "|---|" + "---:|" * len(sizes) + "---|"]

    def row(name: str, cells: list[str], target: str = "") -> None:
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {target} |")

    def sec(pick: Callable[[SizeReport], float]) -> list[str]:
        return [f"{pick(s):.3f} s" for s in sizes]

    def ratio(pick: Callable[[SizeReport], float], limit: float | None) -> list[str]:
        return [_verdict(pick(s), limit, quick or s is not sizes[-1]) for s in sizes]

    def json_s(s: SizeReport) -> float:
        return s.seconds["json"].median

    row("bare `json.loads` of the tweets*.js files", sec(json_s))
    row("cold load, official folder", sec(lambda s: s.seconds["official"].median))
    row(
        "**ratio** cold load / `json.loads`",
        ratio(lambda s: s.seconds["official"].median / json_s(s), TARGETS["load"]),
        "≤ 1.0×",
    )
    row("cold load, official .zip", sec(lambda s: s.seconds["zip"].median))
    row(
        "ratio .zip load / `json.loads`", ratio(lambda s: s.seconds["zip"].median / json_s(s), None)
    )
    row("cold load, markdown (same tweets)", sec(lambda s: s.seconds["markdown"].median))
    row(
        "`json.loads` with the GC paused (for reference)",
        sec(lambda s: s.seconds["json_nogc"].median),
    )
    row(
        "ratio cold load / GC-paused `json.loads`",
        ratio(lambda s: s.seconds["official"].median / s.seconds["json_nogc"].median, None),
    )
    row("cold `preview` (reads all, writes the index)", sec(lambda s: s.cold_preview.median))
    rss = [
        _verdict(s.cold_rss.median, TARGETS["rss"], quick or s is not sizes[-1], " MB", 0)
        for s in sizes
    ]
    row("**peak RSS** of cold `preview`", rss, "≤ 250 MB")
    row("warm `preview` (index present)", sec(lambda s: s.warm_preview.median))
    row("peak RSS of warm `preview`", [f"{s.warm_rss.median:.0f} MB" for s in sizes])
    row(
        "**ratio** warm `preview` / `tootback --version`",
        ratio(lambda s: s.warm_preview.median / version, TARGETS["warm"]),
        "≤ 1.5×",
    )
    row("`tootback --version`", [f"{version:.3f} s"] * len(sizes))
    row("`python -c pass`", [f"{bare:.3f} s"] * len(sizes))
    cells = [_verdict(version / bare, TARGETS["version"], quick)] * len(sizes)
    row("**ratio** `tootback --version` / `python -c pass`", cells, "≤ 3×")
    return lines


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
    with tempfile.TemporaryDirectory(prefix="tootback-bench-") as temp:
        work = Path(temp)
        data_dir = work / "data" if args.quick else args.data
        archives = [ensure(n, data_dir) for n in sizes]
        reports = [measure_size(a, runs, work) for a in archives]
        startup = measure_startup(max(runs, 3) if not args.quick else 1, work)
        polls = 0 if args.quick else 2  # each poll waits for real (the client's backoff)
        requests = measure_requests(archives[0], work, 1 if args.quick else 3, polls)
    print(f"Machine: {machine()}; medians of {runs} run(s); preview date {DAY}.\n")
    print("\n".join(table(reports, startup, args.quick)))
    print()
    print("\n".join(requests_table(requests)))
    print(f"The stand-in answers 206 (still processing) to the first {polls} poll(s) of a video.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
