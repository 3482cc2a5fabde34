"""The HTML preview: one self-contained page that draws each toot the way Mastodon shows it.

Pure: `render_page` turns day previews (and, for a range, the calendar) into
one HTML document, a string. Media files are the caller's business: it
passes `media_src`, which gives each file a `data:` URI or a path relative to
the page (or None when there is nothing to show). The page loads nothing
from the network: styles are inline, there is no script, and its Content
Security Policy forbids every remote load, so opening it never tells anybody
anything.

What a card shows: the account, the due time, the content warning (folded as
Mastodon folds it), the text exactly as it will be sent (links, hashtags and
handles styled, never shortened; its language declared), the media with
their alt text (hidden behind a warning when marked sensitive), a quote post
or the reason a quote stays a link, the length against the limit, and for a
toot of several parts or a self-thread, the reply chain drawn as one thread.
A boost of one's own earlier toot is a card of its own. Every status is one
`<article class="status">`; its text is the element `.content`, white space
kept.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

from bot.calendar import Calendar, DayCount, heat_level, month_days
from bot.compose.media import media_type
from bot.compose.rewrite import handle_spans, url_spans
from bot.model import Media, Toot, TootPart
from bot.preview import DayPreview
from bot.render import calendar_totals, plural

MediaSrc = Callable[[Media], str | None]  # a data: URI or a relative path; None: not shown

# Mastodon's rule, simplified: "#" after no word character or "/", then word
# characters of which at least one is not a digit.
_HASHTAG_RE = re.compile(r"(?<![\w/)])#\w*[^\W\d]\w*")

_CSP = (
    "default-src 'none'; img-src data: file: 'self'; media-src data: file: 'self'; "
    "style-src 'unsafe-inline'"
)


@dataclass(frozen=True, slots=True)
class PageOptions:
    """What the page says besides the toots.

    owner: the archive's screen name (the cards' account), None when unknown.
    spoiler_text: the content warning every toot carries ("" for none).
    visibility: the toots' visibility, shown on each card.
    title: the page title; generator: a line at the foot of the page.
    """

    owner: str | None = None
    spoiler_text: str = ""
    visibility: str = "public"
    title: str = "tootback preview"
    generator: str = "tootback"


def render_page(
    days: Sequence[DayPreview],
    media_src: MediaSrc,
    options: PageOptions,
    calendar: Calendar | None = None,
) -> str:
    """The whole page: the calendar (if any), then each day's toots as cards."""
    body = [f"<h1>{escape(options.title)}</h1>"]
    if calendar is not None:
        shown = {d.day for d in days}
        body.append(_calendar_html(calendar, shown))
    body += [_day_html(day, media_src, options) for day in days]
    body.append(f'<p class="generator">{escape(options.generator)}</p>')
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(options.title)}</title>",
            f"<style>{_STYLE}</style>",
            "</head>",
            "<body>",
            "<main>",
            *body,
            "</main>",
            "</body>",
            "</html>",
            "",
        ]
    )


def data_uri(data: bytes, media: Media) -> str:
    """A `data:` URI of a media file's bytes, of the type it is uploaded as."""
    return f"data:{media_type(media)};base64,{base64.b64encode(data).decode('ascii')}"


# -- a day: its toots grouped into threads -----------------------------------------------


def _day_html(day: DayPreview, media_src: MediaSrc, options: PageOptions) -> str:
    statuses = sum(len(t.parts) or 1 for t in day.toots)  # a boost is a status too
    posted = sum(t.tweet_id in day.posted for t in day.toots)
    summary = f"{plural(len(day.toots), 'toot')}, {plural(statuses, 'status', 'statuses')}"
    if posted:
        summary += f", {posted} already posted"
    if day.failed:
        summary += f", {len(day.failed)} failed before"
    if day.skipped:
        summary += f", {len(day.skipped)} skipped"
    html = [
        f'<section class="day" id="{_anchor(day.day)}">',
        f"<h2>{day.day:%a %Y-%m-%d} <small>({escape(day.timezone)})</small></h2>",
        f'<p class="summary">{escape(summary)}</p>',
    ]
    if not day.toots:
        html.append('<p class="empty">Nothing to post on this day.</p>')
    for chain in threads(day.toots):
        html.append('<div class="thread">')
        html += [card for toot in chain for card in _cards(toot, day, media_src, options)]
        html.append("</div>")
    html.append("</section>")
    return "\n".join(html)


def threads(toots: Sequence[Toot]) -> list[list[Toot]]:
    """The day's toots in reply chains: a self-reply joins its parent's chain when
    the parent is on the same day, else it starts one. Order is kept within
    each chain; chains are ordered by their first toot."""
    chains: list[list[Toot]] = []
    chain_of: dict[str, list[Toot]] = {}
    for toot in toots:
        parent = chain_of.get(toot.in_reply_to_tweet or "")
        chain = parent if parent is not None else []
        if parent is None:
            chains.append(chain)
        chain.append(toot)
        chain_of[toot.tweet_id] = chain
    return chains


def _cards(toot: Toot, day: DayPreview, media_src: MediaSrc, options: PageOptions) -> list[str]:
    """The cards of one toot: one per part, or one for a boost."""
    if not toot.parts:
        return [_boost_card(toot, day, options)]
    return [
        _card(toot, number, part, day, media_src, options)
        for number, part in enumerate(toot.parts, 1)
    ]


def _card(
    toot: Toot,
    number: int,
    part: TootPart,
    day: DayPreview,
    media_src: MediaSrc,
    options: PageOptions,
) -> str:
    lang = f' lang="{escape(toot.language, quote=True)}"' if toot.language else ""
    content = f'<div class="content"{lang}>{_linkify(part.text)}</div>'
    if options.spoiler_text:
        content = (
            f'<details class="cw"><summary><span class="spoiler">{escape(options.spoiler_text)}'
            f'</span> <span class="toggle">Show more</span></summary>{content}</details>'
        )
    if toot.quote is not None and toot.quote.form == "quote" and number == 1:
        content += (
            f'<div class="quote">Quoting the toot of tweet {escape(toot.quote.tweet_id)} '
            f"<small>({escape(toot.quote.reason)})</small></div>"
        )
    over = " over" if part.length > day.max_characters else ""
    notes = " · ".join(_notes(toot, number, day))
    return "\n".join(
        [
            f'<article class="status" data-tweet="{escape(toot.tweet_id)}" data-part="{number}">',
            _account(options.owner or "you", toot),
            content,
            _media_html(part.media, media_src, toot.sensitive),
            f'<footer><span class="length{over}">{part.length}/{day.max_characters}</span> '
            f'<span class="visibility">{escape(options.visibility)}</span> '
            f'<span class="notes">{escape(notes)}</span></footer>',
            "</article>",
        ]
    )


def _boost_card(toot: Toot, day: DayPreview, options: PageOptions) -> str:
    """A retweet of the owner's own tweet: a boost of that tweet's toot."""
    owner = options.owner or "you"
    notes = " · ".join(_notes(toot, 1, day))
    return "\n".join(
        [
            f'<article class="status boost" data-tweet="{escape(toot.tweet_id)}" data-part="1">',
            f'<p class="boosted">{escape(owner)} boosted</p>',
            _account(owner, toot),
            f'<div class="content">The toot of tweet {escape(str(toot.boost_of_tweet))}, '
            "boosted again rather than posted twice.</div>",
            f'<footer><span class="notes">{escape(notes)}</span></footer>',
            "</article>",
        ]
    )


def _account(owner: str, toot: Toot) -> str:
    return (
        f'<header><span class="avatar" aria-hidden="true">{escape(owner[:1].upper())}</span>'
        f'<span class="who"><b>{escape(owner)}</b> <span class="acct">@{escape(owner)}</span>'
        f'</span><time datetime="{toot.due.isoformat()}" '
        f'title="due {toot.due:%Y-%m-%d %H:%M %Z}">{toot.due:%H:%M}</time></header>'
    )


def _notes(toot: Toot, number: int, day: DayPreview) -> list[str]:
    tweeted = toot.tweeted_at.astimezone(toot.due.tzinfo)
    notes = [f"tweet {toot.tweet_id}", f"tweeted {tweeted:%Y-%m-%d %H:%M}"]
    total = len(toot.parts)
    if total > 1:
        notes.append(f"part {number}/{total}" + (", a reply to the part before" * (number > 1)))
    if toot.in_reply_to_tweet and number == 1:
        notes.append(f"a reply to tweet {toot.in_reply_to_tweet} (its toot, if posted)")
    if toot.quote is not None and toot.quote.form == "link" and number == 1:
        notes.append(f"quotes tweet {toot.quote.tweet_id} as a link ({toot.quote.reason})")
    if toot.language:
        notes.append(f"language {toot.language}")
    if toot.sensitive:
        notes.append("marked sensitive")
    if toot.tweet_id in day.posted:
        notes.append("already posted")
    if toot.tweet_id in day.failed:
        notes.append(f"failed before ({day.failed[toot.tweet_id]}): repost skips it")
    return notes


def _linkify(text: str) -> str:
    """`text` escaped, with URLs, hashtags and handles wrapped, not a character changed."""
    spans = [(s, e, "url") for s, e in url_spans(text)]
    taken = [range(s, e) for s, e, _ in spans]
    for kind, found in (("mention", handle_spans(text)), ("hashtag", _hashtags(text))):
        for start, end in found:
            if not any(start in r for r in taken):
                spans.append((start, end, kind))
                taken.append(range(start, end))
    pieces, at = [], 0
    for start, end, kind in sorted(spans):
        piece = escape(text[start:end])
        pieces.append(escape(text[at:start]))
        if kind == "url":
            href = escape(text[start:end], quote=True)
            pieces.append(f'<a class="url" href="{href}" rel="noopener noreferrer">{piece}</a>')
        else:
            pieces.append(f'<span class="{kind}">{piece}</span>')
        at = end
    pieces.append(escape(text[at:]))
    return "".join(pieces)


def _hashtags(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _HASHTAG_RE.finditer(text)]


def _media_html(media: Sequence[Media], media_src: MediaSrc, sensitive: bool) -> str:
    """The attachments; marked sensitive, they are hidden until clicked, as Mastodon does."""
    if not media:
        return ""
    items = [_medium(m, media_src(m)) for m in media]
    gallery = f'<div class="gallery n{len(media)}">{"".join(items)}</div>'
    if sensitive:
        return (
            '<details class="sensitive"><summary>Sensitive content '
            f'<span class="toggle">Show</span></summary>{gallery}</details>'
        )
    return gallery


def _medium(media: Media, src: str | None) -> str:
    alt = media.description or ""
    if src is None:
        why = media.problem or "not embedded"
        tile = (
            f'<div class="missing">{escape(media.kind)} {escape(why)}<br>{escape(media.path)}</div>'
        )
    elif media.kind == "image":
        tile = f'<img src="{escape(src, quote=True)}" alt="{escape(alt, quote=True)}">'
    else:
        label = escape(alt or media.path, quote=True)
        tile = f'<video src="{escape(src, quote=True)}" aria-label="{label}" controls muted>'
        tile += "</video>"
    caption = (
        f'<figcaption><span class="alt">ALT</span> {escape(alt)}</figcaption>'
        if alt
        else '<figcaption class="no-alt">no alt text</figcaption>'
    )
    return f'<figure class="{escape(media.kind)}">{tile}{caption}</figure>'


# -- the calendar -------------------------------------------------------------------------


def _calendar_html(calendar: Calendar, shown: set[date]) -> str:
    counts = {d.day: d for d in calendar.days}
    peak = max((d.toots for d in calendar.days), default=0)
    months = sorted({(d.year, d.month) for d in counts})
    html = [
        '<section class="calendar">',
        "<h2>Calendar</h2>",
        f"<p>{escape(calendar_totals(calendar))}.</p>",
    ]
    html.append('<div class="months">')
    for year, month in months:
        html.append(_month_html(year, month, counts, peak, shown))
    html.append("</div>")
    busiest = calendar.busiest(5)
    if busiest:
        items = ", ".join(f"{d.day:%Y-%m-%d} ({d.toots})" for d in busiest)
        html.append(f"<p>Busiest days: {escape(items)}</p>")
    over = calendar.over_cap()
    if over:
        items = ", ".join(f"{d.day:%Y-%m-%d} (+{d.trimmed} left out)" for d in over)
        html.append(f"<p>Over max_per_day ({calendar.max_per_day}): {escape(items)}</p>")
    html.append("</section>")
    return "\n".join(html)


def _month_html(
    year: int, month: int, counts: dict[date, DayCount], peak: int, shown: set[date]
) -> str:
    days = month_days(year, month)
    first = days[0]
    cells = ['<td class="pad"></td>'] * first.weekday()
    cells += [_day_cell(day, counts.get(day), peak, day in shown) for day in days]
    cells += ['<td class="pad"></td>'] * (-len(cells) % 7)
    rows = ["<tr>" + "".join(cells[i : i + 7]) + "</tr>" for i in range(0, len(cells), 7)]
    head = "".join(f"<th>{d}</th>" for d in ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"))
    total = sum(counts[d].toots for d in days if d in counts)
    return (
        f'<table class="month"><caption>{first:%B %Y} <small>({total})</small></caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _day_cell(day: date, count: DayCount | None, peak: int, shown: bool) -> str:
    if count is None:
        return f'<td class="out">{day.day}</td>'
    level = heat_level(count.toots, peak)
    label = f"{day.day}<b>{count.toots}</b>"
    if shown:
        label = f'<a href="#{_anchor(day)}">{label}</a>'
    over = " over" if count.trimmed else ""
    title = f"{day:%Y-%m-%d}: {plural(count.toots, 'toot')}"
    return f'<td class="h{level}{over}" title="{title}">{label}</td>'


def _anchor(day: date) -> str:
    return f"d-{day.isoformat()}"


_STYLE = """
:root { color-scheme: light; --bg: #eff1f5; --card: #fff; --text: #1f232b; --muted: #606984;
  --link: #563acc; --line: #c0cdd9; --accent: #6364ff; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text);
  font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; }
main { max-width: 640px; margin: 0 auto; padding: 16px; }
h1 { font-size: 20px; margin: 8px 0 16px; }
h2 { font-size: 17px; margin: 24px 0 4px; }
h2 small, .summary, .generator, .empty { color: var(--muted); font-weight: normal; }
.thread { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  margin: 12px 0; overflow: hidden; }
.status { position: relative; padding: 12px 16px 10px 72px; border-top: 1px solid #e6ebf0; }
.thread .status:first-child { border-top: 0; }
.thread .status:not(:last-child)::after { content: ""; position: absolute; left: 37px;
  top: 60px; bottom: -12px; width: 2px; background: var(--line); }
.status header { display: flex; gap: 8px; align-items: baseline; margin-bottom: 4px; }
.avatar { position: absolute; left: 16px; top: 12px; width: 44px; height: 44px;
  border-radius: 8px; background: var(--accent); color: #fff; font-weight: bold;
  display: flex; align-items: center; justify-content: center; font-size: 20px; }
.who { flex: 1; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; }
.acct, time { color: var(--muted); }
.content { white-space: pre-wrap; overflow-wrap: anywhere; }
.content a, .mention, .hashtag { color: var(--link); text-decoration: none; }
.content a:hover { text-decoration: underline; }
.cw summary, .sensitive summary { cursor: pointer; list-style: none; }
.cw summary::-webkit-details-marker, .sensitive summary::-webkit-details-marker {
  display: none; }
.sensitive { margin-top: 8px; }
.sensitive summary { background: #282c37; color: #fff; border-radius: 6px; padding: 24px 8px;
  text-align: center; font-weight: bold; }
.sensitive[open] summary { padding: 2px 8px; }
.quote { margin-top: 8px; padding: 8px 10px; border: 1px solid var(--line);
  border-radius: 6px; color: var(--muted); }
.boosted { margin: 0 0 4px; color: var(--muted); font-size: 13px; }
.boosted::before { content: "🔁 "; }
.toggle { display: inline-block; font-size: 12px; font-weight: bold; text-transform: uppercase;
  color: var(--muted); background: #d9e1e8; border-radius: 4px; padding: 0 6px; margin-left: 4px; }
.cw[open] .toggle { opacity: 0.6; }
.gallery { display: grid; grid-template-columns: 1fr 1fr; gap: 4px; margin-top: 8px; }
.gallery.n1 { grid-template-columns: 1fr; }
figure { margin: 0; position: relative; background: #d9e1e8; border-radius: 6px;
  overflow: hidden; min-height: 80px; }
figure img, figure video { display: block; width: 100%; max-height: 320px; object-fit: cover; }
figcaption { font-size: 12px; padding: 4px 6px; background: #f4f6f8; color: var(--text); }
.alt { font-weight: bold; background: #282c37; color: #fff; border-radius: 3px; padding: 0 4px; }
.no-alt { color: #b5463b; }
.missing { padding: 16px 8px; color: var(--muted); font-size: 12px; text-align: center;
  overflow-wrap: anywhere; }
.status footer { margin-top: 6px; font-size: 12px; color: var(--muted); }
.length { font-weight: bold; }
.length.over { color: #fff; background: #b5463b; border-radius: 3px; padding: 0 4px; }
.visibility { border: 1px solid var(--line); border-radius: 3px; padding: 0 4px; }
.calendar .months { display: flex; flex-wrap: wrap; gap: 12px; }
table.month { border-collapse: collapse; background: var(--card); border-radius: 6px;
  font-size: 11px; }
table.month caption { font-weight: bold; text-align: left; padding: 2px 0; }
table.month th { color: var(--muted); font-weight: normal; padding: 2px; }
table.month td { width: 30px; height: 30px; text-align: center; vertical-align: middle;
  border: 1px solid #fff; line-height: 1.1; }
table.month td b { display: block; font-size: 12px; }
table.month td a { color: inherit; text-decoration: none; display: block; }
td.h0 { background: #f4f6f8; color: var(--muted); }
td.h1 { background: #d6d7ff; } td.h2 { background: #a9abff; }
td.h3 { background: #7d7fff; color: #fff; } td.h4 { background: #4b4dd6; color: #fff; }
td.over { outline: 2px solid #b5463b; outline-offset: -2px; }
td.out, td.pad { background: transparent; color: #c0cdd9; }
"""
