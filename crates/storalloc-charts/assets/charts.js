// storalloc charts: small dependency-free SVG builders shared by the live
// dashboard and (inlined) by reports. Every function returns an SVG string;
// nothing here touches the DOM, so it works in any page or in Node.
(function (root) {
  "use strict";

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // Decimal units, as the system files count them.
  function fmtBytes(b) {
    var u = ["B", "kB", "MB", "GB", "TB", "PB"], i = 0;
    b = Number(b);
    while (Math.abs(b) >= 1000 && i < u.length - 1) { b /= 1000; i++; }
    return (i === 0 ? b.toFixed(0) : b.toFixed(b >= 100 ? 0 : 1)) + " " + u[i];
  }

  function fmtTime(unix) {
    var d = new Date(unix * 1000);
    function p(n) { return (n < 10 ? "0" : "") + n; }
    return p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds());
  }

  // Horizontal used/free bars, one per entry:
  // bars = [{label, used, capacity, cls?}]; opts = {width?, labelWidth?}.
  function capacityBars(bars, opts) {
    opts = opts || {};
    var w = opts.width || 520, lw = opts.labelWidth || 110, h = 20, gap = 6;
    var bw = w - lw - 150, height = bars.length * (h + gap) + gap;
    var out = ['<svg class="sc-bars" xmlns="http://www.w3.org/2000/svg" width="' + w +
      '" height="' + height + '" viewBox="0 0 ' + w + " " + height + '">'];
    bars.forEach(function (b, i) {
      var y = gap + i * (h + gap);
      var frac = b.capacity > 0 ? Math.min(1, b.used / b.capacity) : 0;
      var cls = frac >= 0.9 ? "sc-full" : frac >= 0.6 ? "sc-high" : "sc-ok";
      out.push('<text class="sc-label" x="0" y="' + (y + 14) + '">' + esc(b.label) + "</text>");
      out.push('<rect class="sc-free" x="' + lw + '" y="' + y + '" width="' + bw + '" height="' + h + '" rx="3"/>');
      out.push('<rect class="sc-used ' + cls + " " + esc(b.cls || "") + '" x="' + lw + '" y="' + y +
        '" width="' + (bw * frac).toFixed(1) + '" height="' + h + '" rx="3"><title>' +
        esc(fmtBytes(b.used) + " used of " + fmtBytes(b.capacity)) + "</title></rect>");
      out.push('<text class="sc-value" x="' + (lw + bw + 8) + '" y="' + (y + 14) + '">' +
        esc(fmtBytes(b.used) + " / " + fmtBytes(b.capacity)) + "</text>");
    });
    out.push("</svg>");
    return out.join("");
  }

  function ticks(t0, t1, n) {
    var out = [], step = (t1 - t0) / n;
    for (var i = 0; i <= n; i++) out.push(t0 + i * step);
    return out;
  }

  // A Gantt chart: rows = [{key, label}], items = [{row, start, end, label,
  // cls?, title?, id?}] with times in Unix seconds; opts = {t0, t1, now?,
  // width?, labelWidth?, fmtTime?}. Items outside [t0, t1] are clipped.
  function gantt(rows, items, opts) {
    var w = opts.width || 900, lw = opts.labelWidth || 110, rh = 24, top = 4, axis = 22;
    var t0 = opts.t0, t1 = Math.max(opts.t1, opts.t0 + 1), pw = w - lw - 36;
    var fmt = opts.fmtTime || fmtTime;
    var height = top + rows.length * rh + axis;
    function x(t) { return lw + (Math.min(Math.max(t, t0), t1) - t0) / (t1 - t0) * pw; }
    var rowIndex = {};
    rows.forEach(function (r, i) { rowIndex[r.key] = i; });
    var out = ['<svg class="sc-gantt" xmlns="http://www.w3.org/2000/svg" width="' + w +
      '" height="' + height + '" viewBox="0 0 ' + w + " " + height + '">'];
    rows.forEach(function (r, i) {
      var y = top + i * rh;
      out.push('<rect class="sc-row' + (i % 2 ? " sc-odd" : "") + '" x="' + lw + '" y="' + y +
        '" width="' + pw + '" height="' + rh + '"/>');
      out.push('<text class="sc-label" x="0" y="' + (y + 16) + '">' + esc(r.label) + "</text>");
    });
    items.forEach(function (it) {
      var i = rowIndex[it.row];
      if (i === undefined || it.end < t0 || it.start > t1) return;
      var y = top + i * rh + 3, x0 = x(it.start), x1 = Math.max(x(it.end), x0 + 2);
      out.push('<g class="sc-item ' + esc(it.cls || "") + '"' +
        (it.id !== undefined ? ' data-alloc-id="' + esc(it.id) + '"' : "") + ">" +
        '<rect x="' + x0.toFixed(1) + '" y="' + y + '" width="' + (x1 - x0).toFixed(1) +
        '" height="' + (rh - 6) + '" rx="3"><title>' + esc(it.title || it.label || "") + "</title></rect>");
      if (x1 - x0 > 30 && it.label) {
        out.push('<text class="sc-item-label" x="' + (x0 + 4).toFixed(1) + '" y="' + (y + 13) + '">' +
          esc(it.label) + "</text>");
      }
      out.push("</g>");
    });
    var ay = top + rows.length * rh;
    ticks(t0, t1, 6).forEach(function (t) {
      out.push('<line class="sc-tick" x1="' + x(t) + '" x2="' + x(t) + '" y1="' + top + '" y2="' + (ay + 4) + '"/>');
      out.push('<text class="sc-axis" x="' + x(t) + '" y="' + (ay + 16) + '" text-anchor="middle">' + esc(fmt(t)) + "</text>");
    });
    if (opts.now !== undefined && opts.now >= t0 && opts.now <= t1) {
      out.push('<line class="sc-now" x1="' + x(opts.now) + '" x2="' + x(opts.now) + '" y1="' + top + '" y2="' + ay + '"/>');
    }
    out.push("</svg>");
    return out.join("");
  }

  // Step/line chart: series = [{name, points: [[x, y], ...], cls?}];
  // opts = {width?, height?, fmtX?, fmtY?, step?, legend?}.
  function lineChart(series, opts) {
    opts = opts || {};
    var w = opts.width || 700, h = opts.height || 240, l = 60, r = 10, t = 10, b = 24;
    var xs = [], ys = [0];
    series.forEach(function (s) { s.points.forEach(function (p) { xs.push(p[0]); ys.push(p[1]); }); });
    if (!xs.length) xs = [0, 1];
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs), y1 = Math.max.apply(null, ys);
    if (x1 === x0) x1 = x0 + 1;
    if (y1 <= 0) y1 = 1;
    var fx = opts.fmtX || fmtTime, fy = opts.fmtY || function (v) { return String(Math.round(v)); };
    function X(v) { return l + (v - x0) / (x1 - x0) * (w - l - r); }
    function Y(v) { return t + (1 - v / y1) * (h - t - b); }
    var out = ['<svg class="sc-line" xmlns="http://www.w3.org/2000/svg" width="' + w + '" height="' + h +
      '" viewBox="0 0 ' + w + " " + h + '">'];
    ticks(0, y1, 4).forEach(function (v) {
      out.push('<line class="sc-tick" x1="' + l + '" x2="' + (w - r) + '" y1="' + Y(v) + '" y2="' + Y(v) + '"/>');
      out.push('<text class="sc-axis" x="' + (l - 4) + '" y="' + (Y(v) + 4) + '" text-anchor="end">' + esc(fy(v)) + "</text>");
    });
    ticks(x0, x1, 5).forEach(function (v, i) {
      // The last label ends at the edge instead of running past it.
      out.push('<text class="sc-axis" x="' + X(v) + '" y="' + (h - 6) + '" text-anchor="' + (i === 5 ? "end" : "middle") +
        '">' + esc(fx(v)) + "</text>");
    });
    series.forEach(function (s, i) {
      var pts = [];
      s.points.forEach(function (p, j) {
        if (opts.step && j > 0) pts.push(X(p[0]).toFixed(1) + "," + Y(s.points[j - 1][1]).toFixed(1));
        pts.push(X(p[0]).toFixed(1) + "," + Y(p[1]).toFixed(1));
      });
      out.push('<polyline class="sc-series sc-s' + i + " " + esc(s.cls || "") + '" fill="none" points="' +
        pts.join(" ") + '"><title>' + esc(s.name) + "</title></polyline>");
    });
    if (opts.legend) legend(out, series, l);
    out.push("</svg>");
    return out.join("");
  }

  // One swatch and name per series along the top edge (sc-s<i> colours).
  function legend(out, series, x) {
    series.forEach(function (s, i) {
      out.push('<rect class="sc-swatch sc-f' + i + '" x="' + x + '" y="0" width="10" height="10"/>' +
        '<text class="sc-axis" x="' + (x + 14) + '" y="9">' + esc(s.name) + "</text>");
      x += 24 + 7 * String(s.name).length;
    });
  }

  // Grouped vertical bars, one group per label and one bar per series:
  // labels = [string], series = [{name, values: [number]}];
  // opts = {width?, height? (without the labels), yMax?, fmtY?}. A legend is
  // drawn for 2+ series.
  function barChart(labels, series, opts) {
    opts = opts || {};
    // Room below for the slanted labels, up to a point.
    var longest = Math.max.apply(null, [1].concat(labels.map(function (x) { return String(x).length; })));
    var b = Math.min(140, 20 + 5 * longest), w = opts.width || 700, h = (opts.height || 200) + b, l = 60, r = 10, t = 16;
    var ys = [0];
    series.forEach(function (s) { s.values.forEach(function (v) { ys.push(v); }); });
    var y1 = opts.yMax || Math.max.apply(null, ys);
    if (!(y1 > 0)) y1 = 1;
    var fy = opts.fmtY || function (v) { return String(Math.round(v * 10) / 10); };
    var pw = w - l - r, ph = h - t - b, gw = pw / Math.max(labels.length, 1);
    var bw = Math.max(gw * 0.8 / Math.max(series.length, 1), 0.5);
    var every = Math.max(1, Math.ceil(labels.length / 40));
    function Y(v) { return t + (1 - Math.min(v, y1) / y1) * ph; }
    var out = ['<svg class="sc-barchart" xmlns="http://www.w3.org/2000/svg" width="' + w + '" height="' + h +
      '" viewBox="0 0 ' + w + " " + h + '">'];
    ticks(0, y1, 4).forEach(function (v) {
      out.push('<line class="sc-tick" x1="' + l + '" x2="' + (w - r) + '" y1="' + Y(v) + '" y2="' + Y(v) + '"/>');
      out.push('<text class="sc-axis" x="' + (l - 4) + '" y="' + (Y(v) + 4) + '" text-anchor="end">' + esc(fy(v)) + "</text>");
    });
    labels.forEach(function (label, g) {
      var gx = l + g * gw + gw * 0.1;
      series.forEach(function (s, i) {
        var v = Number(s.values[g]) || 0, y = Y(v);
        out.push('<rect class="sc-bar sc-f' + i + '" x="' + (gx + i * bw).toFixed(2) + '" y="' + y.toFixed(1) +
          '" width="' + bw.toFixed(2) + '" height="' + (t + ph - y).toFixed(1) + '"><title>' +
          esc(label + " " + s.name + ": " + fy(v)) + "</title></rect>");
      });
      if (g % every === 0) {
        var lx = (gx + gw * 0.4).toFixed(1), ly = t + ph + 12;
        out.push('<text class="sc-axis" x="' + lx + '" y="' + ly + '" text-anchor="end" transform="rotate(-40 ' +
          lx + " " + ly + ')">' + esc(label) + "</text>");
      }
    });
    if (series.length > 1) legend(out, series, l);
    out.push("</svg>");
    return out.join("");
  }

  // Default look; pages may override any class.
  var css = ".sc-label,.sc-value,.sc-axis,.sc-item-label{font:12px sans-serif;fill:#333}" +
    ".sc-item-label{fill:#fff;pointer-events:none}.sc-free{fill:#e8ecef}.sc-ok{fill:#3a8f5c}" +
    ".sc-high{fill:#d9a21b}.sc-full{fill:#c43c3c}.sc-row{fill:#f6f8fa}.sc-odd{fill:#eef1f4}" +
    ".sc-tick{stroke:#ccd;stroke-width:1}.sc-now{stroke:#c43c3c;stroke-width:2}" +
    ".sc-item rect{fill:#4a78b5}.sc-item.reserved rect{fill:#9bb7dd}.sc-item.ended rect{fill:#a9a9a9}" +
    ".sc-item.cancelled rect,.sc-item.failed rect{fill:#d08080}" +
    ".sc-series{stroke-width:2}.sc-s0{stroke:#4a78b5}.sc-s1{stroke:#c43c3c}.sc-s2{stroke:#3a8f5c}.sc-s3{stroke:#d9a21b}" +
    ".sc-s4{stroke:#8a5cb5}.sc-s5{stroke:#4ab5b0}.sc-f0{fill:#4a78b5}.sc-f1{fill:#c43c3c}.sc-f2{fill:#3a8f5c}" +
    ".sc-f3{fill:#d9a21b}.sc-f4{fill:#8a5cb5}.sc-f5{fill:#4ab5b0}";

  root.StorallocCharts = {
    esc: esc, fmtBytes: fmtBytes, fmtTime: fmtTime,
    capacityBars: capacityBars, gantt: gantt, lineChart: lineChart, barChart: barChart, css: css
  };
})(typeof window !== "undefined" ? window : this);
