"""One self-contained HTML report: summary, video events, thumbnails of flagged frames, unreadable files.

The file needs nothing but itself: CSS and JavaScript are inline, thumbnails are ``data:`` URIs, and a
Content-Security-Policy forbids the page to load anything from anywhere else. It can be mailed, attached to
a CI job or opened from a share.

Everything that comes from the scanned files (names, error messages, labels) is escaped with
:func:`html.escape`, in text and in attributes; the machine-readable summary is embedded as JSON in a
``<script type="application/json">`` block with ``<``, ``>`` and ``&`` written as ``\\u003c``-style escapes, so
no file name can close the block or inject markup.

Results are consumed in one pass with bounded memory: counters, the video events, the ``max_cards``
highest-scoring flagged frames (thumbnails are made while streaming, for a frame that enters that set) and the
first ``max_errors`` unreadable files. The report says how many flagged frames and errors it left out.
"""

from __future__ import annotations

import base64
import heapq
import html
import json
import os
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TextIO

from artifactscope.artifacts import ARTIFACT_NAMES, ARTIFACTS, CLEAN_COLOR, color_of
from artifactscope.events import Event, EventGrouper, event_to_dict
from artifactscope.reports.junit_report import clean_text

__all__ = ["write_html"]

THUMB_WIDTH = 320
THUMB_MAX_HEIGHT = 400
JPEG_QUALITY = 75
MAX_CARDS = 2000
MAX_ERRORS = 1000
MAX_GROUPS = 500
MAX_EVENT_ROWS = 2000
MAX_NEAR_MISSES = 200
_CAPTION_PX, _CARD_PX = 20, 330  # a box caption's height; the narrowest card (the grid's minmax) in CSS pixels

_TITLES = {a.name: a.title for a in ARTIFACTS}
_HEX = re.compile(r"#[0-9a-fA-F]{6}")


def _e(value) -> str:
    """Escape for HTML text and (double- or single-quoted) attributes."""
    return html.escape(clean_text(value), quote=True)


def _path(value) -> str:
    """An escaped path that a narrow table cell may break after its separators rather than inside a name."""
    return _e(value).replace("/", "/<wbr>")


def _color(label) -> str:
    try:
        c = color_of(label)
    except ValueError:
        c = CLEAN_COLOR
    return c if _HEX.fullmatch(c) else CLEAN_COLOR


def _title(label) -> str:
    return _TITLES.get(label, str(label))


def _fmt_time(t: float | None) -> str:
    if t is None:
        return ""
    m, s = divmod(float(t), 60.0)
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{s:05.2f}" if h else f"{m}:{s:05.2f}"


def _script_json(data) -> str:
    """JSON that is safe inside a <script> element (no ``</script>``, no ``<!--``)."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# ------------------------------------------------------------------------------------------------------------
# Thumbnails


class _Thumbnailer:
    """Re-reads flagged frames and encodes them as small JPEG data URIs; keeps one video open at a time."""

    def __init__(self) -> None:
        # Imported here, not at module level, so that `artifactscope.reports` stays light; frames sets
        # OpenCV's safety variables before cv2 is first imported.
        import numpy as np

        from artifactscope import frames
        import cv2  # noqa: I001  (after artifactscope.frames)

        self._frames, self._cv2, self._np = frames, cv2, np
        self._cap = None
        self._cap_path: str | None = None
        self._next = 0  # index of the frame the open capture will decode next

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
        self._cap, self._cap_path = None, None

    def _video_frame(self, path: str, index: int):
        cv2 = self._cv2
        if self._cap_path != path:
            self.close()
            cap = cv2.VideoCapture(os.path.abspath(path), cv2.CAP_FFMPEG)
            if not cap.isOpened():
                cap.release()
                return None
            self._cap, self._cap_path, self._next = cap, path, 0
        cap = self._cap
        ahead = index - self._next
        if not 0 <= ahead <= 120:  # seek when going back or far ahead; decode forward otherwise
            if not cap.set(cv2.CAP_PROP_POS_FRAMES, index):
                return None
            ahead = 0
        for _ in range(ahead):
            if not cap.grab():
                self.close()
                return None
        ok, img = cap.read()
        if not ok or img is None:
            self.close()
            return None
        self._next = index + 1
        return img  # BGR

    def make(self, r) -> tuple[str, int, int] | None:
        """``(data URI, frame width, frame height)`` for a result, or None when the frame cannot be re-read."""
        cv2, np = self._cv2, self._np
        try:
            if r.frame is None:
                bgr = self._frames.read_image(r.path)[:, :, ::-1]
            else:
                bgr = self._video_frame(r.path, int(r.frame))
                if bgr is None:
                    return None
            h, w = bgr.shape[:2]
            scale = min(1.0, THUMB_WIDTH / w, THUMB_MAX_HEIGHT / h)
            tw, th = max(1, round(w * scale)), max(1, round(h * scale))
            small = cv2.resize(np.ascontiguousarray(bgr), (tw, th), interpolation=cv2.INTER_AREA)
            ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            if not ok:
                return None
            return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode("ascii"), w, h
        except Exception:  # noqa: BLE001 - a thumbnail that cannot be made is left out, the report goes on
            return None


# ------------------------------------------------------------------------------------------------------------
# Collecting


class _Group:
    __slots__ = ("frames", "flagged", "errors", "labels", "video")

    def __init__(self, video: bool) -> None:
        self.frames = self.flagged = self.errors = 0
        self.labels: dict[str, int] = {}
        self.video = video


def _card_record(r, order: int, thumb) -> dict:
    top = sorted(((float(v), k) for k, v in (r.scores or {}).items()), reverse=True)[:3]
    return {
        "order": order, "path": r.path, "frame": r.frame, "time_s": r.time_s, "label": r.label,
        "score": float(r.score) if r.score is not None else 0.0,
        "top": [(k, p) for p, k in top],
        "regions": [(g.label, float(g.score), tuple(int(v) for v in g.box)) for g in (r.regions or [])],
        "thumb": thumb, "width": r.width, "height": r.height,
    }


# ------------------------------------------------------------------------------------------------------------
# Rendering


_CSS = """
:root{--fg:#1d2330;--muted:#5d6677;--line:#dfe3ea;--bg:#f4f6f9;--card:#fff;--accent:#2f5bd3;--bad:#c0392b}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
 color:var(--fg);background:var(--bg)}
header{background:#1d2330;color:#fff;padding:14px 24px}
header h1{margin:0;font-size:20px;font-weight:600}
header .meta{color:#aab3c5;font-size:12px;margin-top:2px}
main{padding:16px 24px 40px;max-width:1600px;margin:0 auto}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 16px;margin:0 0 16px}
h2{font-size:16px;margin:0 0 10px}
.tiles{display:flex;gap:12px;flex-wrap:wrap;margin-bottom:12px}
.tile{flex:1 1 130px;border:1px solid var(--line);border-radius:8px;padding:8px 12px;background:#fafbfd}
.tile .n{font-size:26px;font-weight:650}
.tile .t{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.tile.bad .n{color:var(--bad)}
.tile.ok .n{color:#1e8449}
.cols{display:grid;grid-template-columns:minmax(280px,1fr) minmax(380px,2fr);gap:16px}
@media (max-width:900px){.cols{grid-template-columns:1fr}}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.03em}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.path{overflow-wrap:anywhere}
.scroll{max-height:360px;overflow:auto}
.sw{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:6px;vertical-align:-1px;
 border:1px solid rgba(0,0,0,.25)}
.bar{height:8px;border-radius:4px;background:#e8ebf0;min-width:60px}
.bar>span{display:block;height:100%;border-radius:4px}
.note{color:var(--muted);font-size:12px;margin:6px 0 0}
.empty{color:var(--muted);font-style:italic}
.controls{display:flex;flex-wrap:wrap;gap:10px 18px;align-items:center;margin-bottom:12px}
.controls label{white-space:nowrap;cursor:pointer}
.chips{display:flex;flex-wrap:wrap;gap:6px}
.chip{border:1px solid var(--line);border-radius:14px;padding:2px 10px 2px 6px;background:#fafbfd}
.chip input{vertical-align:-2px}
#shown{color:var(--muted)}
button{font:inherit;border:1px solid var(--line);border-radius:6px;background:#fff;padding:2px 8px;cursor:pointer}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:12px}
.card{border:1px solid var(--line);border-radius:8px;background:#fff;overflow:hidden;display:flex;
 flex-direction:column;border-top:4px solid var(--c)}
.shot{position:relative;background:#222;line-height:0;align-self:center;width:100%}
.shot img{width:100%;height:auto;display:block}
.nothumb{background:#eceff3;color:var(--muted);padding:30px 10px;text-align:center;line-height:1.4}
.box{position:absolute;border:2px solid var(--c);box-shadow:0 0 0 1px rgba(0,0,0,.6)}
.box span{position:absolute;left:-2px;top:-18px;background:var(--c);color:#000;font:11px/16px sans-serif;
 padding:0 4px;white-space:nowrap}
.box.in span{top:0;left:0}
.box.under span{top:100%}
.info{padding:8px 10px}
.info .name{font-weight:600;word-break:break-all}
.info .where{color:var(--muted);font-size:12px;word-break:break-all}
.verdict{display:flex;justify-content:space-between;align-items:center;margin:4px 0}
.tag{display:inline-block;background:var(--c);color:#000;border-radius:4px;padding:0 6px;font-weight:600;
 font-size:12px}
.score{font-weight:700;font-variant-numeric:tabular-nums}
.tops{font-size:12px;color:var(--muted)}
.tops div{display:grid;grid-template-columns:130px 1fr 44px;gap:6px;align-items:center}
.tops .v{text-align:right;font-variant-numeric:tabular-nums}
.kind{font-size:11px;color:var(--muted);border:1px solid var(--line);border-radius:3px;padding:0 4px}
.hidden{display:none!important}
ul.errors{margin:0;padding-left:18px}
ul.errors li{margin:2px 0;word-break:break-all}
ul.errors .msg{color:var(--bad)}
"""

_JS = """
(function(){
  var grid=document.getElementById('cards'); if(!grid) return;
  var cards=Array.prototype.slice.call(grid.querySelectorAll('.card'));
  var boxes=Array.prototype.slice.call(document.querySelectorAll('input[data-filter-label]'));
  var slider=document.getElementById('minscore'), sval=document.getElementById('minscore-v');
  var sorter=document.getElementById('sort'), shown=document.getElementById('shown');
  function apply(){
    var on={}; boxes.forEach(function(b){ if(b.checked) on[b.getAttribute('data-filter-label')]=1; });
    var min=parseFloat(slider.value)||0; sval.textContent=min.toFixed(2);
    var n=0;
    cards.forEach(function(c){
      var ok=on.hasOwnProperty(c.getAttribute('data-label')) && parseFloat(c.getAttribute('data-score'))>=min;
      c.classList.toggle('hidden',!ok); if(ok) n++;
    });
    shown.textContent=n+' of '+cards.length+' shown';
  }
  function num(c,a){ var v=c.getAttribute(a); return v===''||v===null ? NaN : parseFloat(v); }
  function sort(){
    var k=sorter.value;
    cards.sort(function(a,b){
      if(k==='score'){ return num(b,'data-score')-num(a,'data-score') || num(a,'data-order')-num(b,'data-order'); }
      if(k==='name'){
        var x=a.getAttribute('data-name'), y=b.getAttribute('data-name');
        return x<y?-1:x>y?1:(num(a,'data-frame')||0)-(num(b,'data-frame')||0);
      }
      var ta=num(a,'data-time'), tb=num(b,'data-time');
      if(isNaN(ta)!==isNaN(tb)) return isNaN(ta)?1:-1;
      if(!isNaN(ta) && ta!==tb) return ta-tb;
      return num(a,'data-order')-num(b,'data-order');
    });
    cards.forEach(function(c){ grid.appendChild(c); });
  }
  boxes.forEach(function(b){ b.addEventListener('change',apply); });
  slider.addEventListener('input',apply); sorter.addEventListener('change',sort);
  function all(v){ boxes.forEach(function(b){ b.checked=v; }); apply(); }
  document.getElementById('all').addEventListener('click',function(){ all(true); });
  document.getElementById('none').addEventListener('click',function(){ all(false); });
  sort(); apply();
})();
"""


def _bar(value: float, total: float, color: str) -> str:
    pct = 0.0 if total <= 0 else max(0.0, min(100.0, 100.0 * value / total))
    return f'<div class="bar"><span style="width:{pct:.1f}%;background:{color}"></span></div>'


def _label_cell(label) -> str:
    c = _color(label)
    return f'<span class="sw" style="background:{c}"></span>{_e(_title(label))}'


def _card(rec: dict) -> str:
    label, c = rec["label"], _color(rec["label"])
    name = os.path.basename(rec["path"]) or rec["path"]
    frame, t = rec["frame"], rec["time_s"]
    where = _e(rec["path"])
    if frame is not None:
        where += f" &middot; frame {int(frame)}" + (f" &middot; {_fmt_time(t)}" if t is not None else "")
    attrs = (f'data-label="{_e(label)}" data-score="{rec["score"]:.4f}" data-name="{_e(rec["path"].casefold())}" '
             f'data-frame="{"" if frame is None else int(frame)}" data-time="{"" if t is None else f"{float(t):.4f}"}" '
             f'data-order="{rec["order"]}"')
    if rec["thumb"] is not None:
        uri, w, h = rec["thumb"]
        w, h = rec["width"] or w, rec["height"] or h
        boxes = []
        for g_label, g_score, (x0, y0, x1, y1) in rec["regions"]:
            left, top = max(0.0, 100 * x0 / w), max(0.0, 100 * y0 / h)
            right, bottom = min(100.0, 100 * x1 / w), min(100.0, 100 * y1 / h)
            if right <= left or bottom <= top:
                continue
            # A box at the top edge has no room for its caption above it (the card clips it): the caption goes
            # inside the box, or under it when the box is too small to hold it.
            caption_pct = _CAPTION_PX * 100.0 * w / (_CARD_PX * h)  # caption height in % of the picture
            cls = "box" if top >= caption_pct else "box in" if bottom - top > 2 * caption_pct else "box under"
            boxes.append(
                f'<div class="{cls}" style="--c:{_color(g_label)};left:{left:.2f}%;top:{top:.2f}%;'
                f'width:{right - left:.2f}%;height:{bottom - top:.2f}%" '
                f'title="{_e(_title(g_label))} {g_score:.3f}"><span>{_e(_title(g_label))} {g_score:.2f}</span></div>')
        shot = (f'<div class="shot"><img src="{uri}" alt="{_e(name)}" loading="lazy">' + "".join(boxes) + "</div>")
    else:
        shot = '<div class="nothumb">no thumbnail (the frame could not be read again)</div>'
    tops = "".join(
        f'<div><span>{_label_cell(k)}</span>{_bar(p, 1.0, _color(k))}<span class="v">{p:.3f}</span></div>'
        for k, p in rec["top"])
    frame_tag = "" if frame is None else f' <span class="kind">frame {int(frame)}</span>'
    n_regions = len(rec["regions"])
    region_note = f'<div class="tops">{n_regions} region(s) outlined</div>' if n_regions else ""
    return (f'<div class="card" style="--c:{c}" {attrs}>{shot}<div class="info">'
            f'<div class="name" title="{where}">{_e(name)}{frame_tag}</div><div class="where">{where}</div>'
            f'<div class="verdict"><span class="tag">{_e(_title(label))}</span>'
            f'<span class="score">{rec["score"]:.3f}</span></div>'
            f'<div class="tops">{tops}</div>{region_note}</div></div>')


def _event_row(e: Event) -> str:
    dur = e.duration_s
    others = ", ".join(f"{_e(k)}: {v}" for k, v in e.labels.items()) if len(e.labels) > 1 else ""
    return (f'<tr><td class="path">{_path(e.path)}</td><td class="num">{e.start_frame}</td>'
            f'<td class="num">{e.end_frame}</td><td class="num">{_fmt_time(e.start_time_s)}</td>'
            f'<td class="num">{"" if dur is None else f"{dur:.2f} s"}</td>'
            f'<td>{_label_cell(e.label)}' + (f'<div class="note">{others}</div>' if others else "") + "</td>"
            f'<td class="num">{e.peak_score:.3f}</td><td class="num">{e.peak_frame}</td>'
            f'<td class="num">{e.frames}</td></tr>')


def write_html(results: Iterable, out: TextIO, *, thumbnails: bool = True, title: str = "artifactscope report",
               max_cards: int = MAX_CARDS, max_gap: int = 1,
               thresholds: Mapping[str, float] | float | None = None) -> None:
    """Write one self-contained HTML report.

    Parameters
    ----------
    results : iterable of ScanResult
        Consumed once; memory stays bounded (see the module docstring).
    out : text stream
        Receives the page (UTF-8, as its ``<meta charset>`` says).
    thumbnails : bool
        Re-read flagged frames to show them (images from ``r.path``, video frames by seeking to ``r.frame``);
        a frame that cannot be read again simply has no picture.
    title : str
        Page title and heading (escaped).
    max_cards : int
        Most flagged frames shown as cards: the highest-scoring ones; the report says how many were left out.
    max_gap : int
        Event grouping tolerance for videos (see :func:`artifactscope.events.group_events`).
    thresholds : mapping of str to float, float or None
        The thresholds the scan used (the model's per-class ones, or the one ``--threshold``). When given, the
        report lists the near misses: clean frames that scored 0.5 or more but stayed below their most likely
        artifact's threshold (the highest-scoring :data:`MAX_NEAR_MISSES`), worth a look and a label.
    """
    from artifactscope.scan import near_miss

    n_frames = n_flagged = n_errors = 0
    by_artifact: dict[str, int] = {}
    groups: dict[str, _Group] = {}
    errors: list[tuple[str, str]] = []
    events: list[Event] = []
    grouper = EventGrouper(max_gap)
    heap: list[tuple[float, int, dict]] = []  # min-heap of the best cards: (score, -order, record)
    cards_left_out = 0
    near: list[tuple[float, int, tuple]] = []  # min-heap of the highest-scoring near misses
    n_near = 0
    from artifactscope.frames import is_video as is_video_path

    thumbs = _Thumbnailer() if thumbnails else None
    try:
        previous: str | None = None
        for order, r in enumerate(results):
            if r.path != previous:
                if previous is not None:  # a scan yields each file's frames together: the last video is done
                    events.extend(grouper.close(previous))
                previous = r.path
            events.extend(grouper.add(r))
            is_video = r.frame is not None or is_video_path(r.path)
            key = r.path if is_video else (os.path.dirname(r.path) or ".")
            g = groups.get(key)
            if g is None:
                g = groups[key] = _Group(is_video)
            if r.error is not None:
                n_errors += 1
                g.errors += 1
                if len(errors) < MAX_ERRORS:
                    where = f"{r.path} [frame {r.frame}]" if r.frame is not None else r.path
                    errors.append((where, r.error))
                continue
            n_frames += 1
            g.frames += 1
            if not r.corrupted:
                miss = near_miss(r, thresholds)
                if miss is not None:
                    n_near += 1
                    where = f"{r.path} [frame {r.frame}]" if r.frame is not None else r.path
                    item_n = (float(r.score), -order, (where, float(r.score), miss[0], miss[1]))
                    if len(near) < MAX_NEAR_MISSES:
                        heapq.heappush(near, item_n)
                    elif item_n > near[0]:
                        heapq.heapreplace(near, item_n)
                continue
            n_flagged += 1
            g.flagged += 1
            by_artifact[r.label] = by_artifact.get(r.label, 0) + 1
            g.labels[r.label] = g.labels.get(r.label, 0) + 1
            score = float(r.score) if r.score is not None else 0.0
            if max_cards <= 0:
                cards_left_out += 1
                continue
            if len(heap) >= max_cards and score <= heap[0][0]:
                cards_left_out += 1  # lower than every card kept: no thumbnail work at all
                continue
            thumb = thumbs.make(r) if thumbs is not None else None
            item = (score, -order, _card_record(r, order, thumb))
            if len(heap) < max_cards:
                heapq.heappush(heap, item)
            else:
                heapq.heapreplace(heap, item)
                cards_left_out += 1
        events.extend(grouper.finish())
    finally:
        if thumbs is not None:
            thumbs.close()

    cards = sorted((rec for _, _, rec in heap), key=lambda rec: rec["order"])
    misses = None if thresholds is None else (n_near, [m for _, _, m in sorted(near, reverse=True)])
    out.write(_render(title, thumbnails, n_frames, n_flagged, n_errors, by_artifact, groups, errors, events, cards,
                      cards_left_out, misses))


def _near_misses_section(n_near: int, rows: list[tuple]) -> str:
    p = [f'<section id="near-misses"><h2>Near misses ({n_near})</h2>']
    if not rows:
        p.append('<p class="empty">No clean frame scored 0.5 or more.</p></section>')
        return "".join(p)
    p.append('<p class="note">Called clean, yet more likely corrupted than not: each scored 0.5 or more but '
             "stayed below its most likely artifact's threshold. Worth a look, and worth labelling.</p>")
    p.append('<div class="scroll"><table><tr><th>file</th><th class="num">score</th><th>most likely</th>'
             '<th class="num">its threshold</th></tr>')
    for where, score, artifact, threshold in rows:
        p.append(f'<tr><td class="path">{_e(where)}</td><td class="num">{score:.3f}</td>'
                 f'<td>{_label_cell(artifact)}</td><td class="num">{threshold:.4g}</td></tr>')
    p.append("</table></div>")
    if n_near > len(rows):
        p.append(f'<p class="note">{n_near - len(rows)} more near misses with lower scores not listed.</p>')
    p.append("</section>")
    return "".join(p)


def _render(title, thumbnails, n_frames, n_flagged, n_errors, by_artifact, groups, errors, events, cards,
            cards_left_out, misses=None) -> str:
    known = [a for a in ARTIFACT_NAMES if a in by_artifact]
    labels = known + sorted(k for k in by_artifact if k not in ARTIFACT_NAMES)
    video_frames = sum(g.frames for g in groups.values() if g.video)
    data = {
        "title": clean_text(title),
        "summary": {"frames": n_frames, "flagged": n_flagged, "errors": n_errors,
                    "by_artifact": {clean_text(k): by_artifact[k] for k in labels}, "events": len(events)},
        "events": [{k: clean_text(v) if isinstance(v, str) else v for k, v in event_to_dict(e).items()}
                   for e in events[:MAX_EVENT_ROWS]],
        "artifacts": {a.name: {"title": a.title, "color": a.color} for a in ARTIFACTS},
    }
    p: list[str] = []
    w = p.append
    w("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
    w('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
      "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">")
    w('<meta name="viewport" content="width=device-width, initial-scale=1">')
    w(f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>")
    stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    w(f'<header><h1>{_e(title)}</h1><div class="meta">generated {_e(stamp)} by artifactscope</div></header><main>')

    # -- summary
    w('<section id="summary"><h2>Summary</h2><div class="tiles">')
    pct = f" ({100 * n_flagged / n_frames:.1f}%)" if n_frames else ""
    w(f'<div class="tile"><div class="n">{n_frames}</div><div class="t">frames scanned</div></div>')
    w(f'<div class="tile {"bad" if n_flagged else "ok"}"><div class="n">{n_flagged}</div>'
      f'<div class="t">flagged{pct}</div></div>')
    w(f'<div class="tile{" bad" if events else ""}"><div class="n">{len(events)}</div>'
      f'<div class="t">video events ({video_frames} video frames)</div></div>')
    w(f'<div class="tile{" bad" if n_errors else ""}"><div class="n">{n_errors}</div>'
      f'<div class="t">unreadable</div></div></div>')
    w('<div class="cols"><div><h2>Flagged frames by artifact</h2>')
    if labels:
        w('<table><tr><th>artifact</th><th class="num">frames</th><th></th></tr>')
        top = max(by_artifact.values())
        for k in sorted(labels, key=lambda k: -by_artifact[k]):
            w(f"<tr><td>{_label_cell(k)}</td><td class=\"num\">{by_artifact[k]}</td>"
              f"<td style=\"width:45%\">{_bar(by_artifact[k], top, _color(k))}</td></tr>")
        w("</table>")
    else:
        w('<p class="empty">No artifact found.</p>')
    w('</div><div><h2>By folder / video</h2>')
    ranked = sorted(groups.items(), key=lambda kv: (-kv[1].flagged, -kv[1].errors, kv[0]))
    if ranked:
        w('<div class="scroll"><table><tr><th>folder or video</th><th class="num">frames</th>'
          '<th class="num">flagged</th><th class="num">unreadable</th><th>main artifact</th></tr>')
        for key, g in ranked[:MAX_GROUPS]:
            main = max(g.labels, key=lambda k: g.labels[k]) if g.labels else None
            kind = ' <span class="kind">video</span>' if g.video else ""
            w(f'<tr><td class="path">{_path(key)}{kind}</td><td class="num">{g.frames}</td>'
              f'<td class="num">{g.flagged}</td><td class="num">{g.errors}</td>'
              f'<td>{_label_cell(main) if main else ""}</td></tr>')
        w("</table></div>")
        if len(ranked) > MAX_GROUPS:
            w(f'<p class="note">{len(ranked) - MAX_GROUPS} more folders/videos with fewer findings not listed.</p>')
    w("</div></div></section>")

    # -- events
    w('<section id="events"><h2>Video events</h2>')
    if events:
        w('<p class="note">Consecutive flagged frames of a video form one event (label: the majority of its frames).'
          '</p><div class="scroll"><table><tr><th>video</th><th class="num">start frame</th>'
          '<th class="num">end frame</th><th class="num">start</th><th class="num">duration</th><th>artifact</th>'
          '<th class="num">peak score</th><th class="num">peak frame</th><th class="num">flagged frames</th></tr>')
        for e in events[:MAX_EVENT_ROWS]:
            w(_event_row(e))
        w("</table></div>")
        if len(events) > MAX_EVENT_ROWS:
            w(f'<p class="note">{len(events) - MAX_EVENT_ROWS} more events not listed.</p>')
    else:
        w('<p class="empty">No event in any video.</p>')
    w("</section>")

    # -- cards
    w('<section id="flagged"><h2>Flagged frames</h2>')
    if cards:
        w('<div class="controls"><div class="chips">')
        for k in labels:
            w(f'<label class="chip"><input type="checkbox" checked data-filter-label="{_e(k)}"> {_label_cell(k)} '
              f"({by_artifact[k]})</label>")
        w('</div><span><button type="button" id="all">all</button> <button type="button" id="none">none</button>'
          '</span><label>min score <input type="range" id="minscore" min="0" max="1" step="0.01" value="0"> '
          '<b id="minscore-v">0.00</b></label><label>sort by <select id="sort">'
          '<option value="score">score (highest first)</option><option value="name">name</option>'
          '<option value="time">video time</option></select></label><span id="shown"></span></div>')
        if cards_left_out:
            w(f'<p class="note"><b>{cards_left_out} flagged frame(s) with lower scores are not shown here</b> '
              f"(the report keeps the {len(cards)} highest-scoring ones); the JSON or CSV output lists every "
              "frame.</p>")
        if not thumbnails:
            w('<p class="note">Thumbnails were turned off for this report.</p>')
        w('<div class="grid" id="cards">')
        for rec in cards:
            w(_card(rec))
        w("</div>")
    else:
        w('<p class="empty">No flagged frame.</p>')
        if cards_left_out:
            w(f'<p class="note">{cards_left_out} flagged frame(s) not shown.</p>')
    w("</section>")

    if misses is not None:
        w(_near_misses_section(*misses))

    # -- errors
    w(f'<section id="unreadable"><h2>Unreadable files ({n_errors})</h2>')
    if errors:
        w('<ul class="errors">')
        for where, msg in errors:
            w(f'<li><span class="path">{_e(where)}</span>: <span class="msg">{_e(msg)}</span></li>')
        w("</ul>")
        if n_errors > len(errors):
            w(f'<p class="note">{n_errors - len(errors)} more unreadable files not listed.</p>')
    else:
        w('<p class="empty">Every file could be read.</p>')
    w("</section></main>")
    w(f'<script type="application/json" id="artifactscope-data">{_script_json(data)}</script>')
    w(f"<script>{_JS}</script></body></html>\n")
    return "".join(p)
