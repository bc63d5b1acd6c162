/* OpenVPP dashboard: charts (uPlot, served locally) and the overview's live refresh. No other dependency. */
(function () {
  "use strict";
  var charts = {};

  function width(el) { return Math.max(320, el.clientWidth || 800); }

  function draw(id, el, xs, series) {
    if (!window.uPlot || !el) return;
    var data = [xs].concat(series.map(function (s) { return s.values; }));
    if (charts[id]) { charts[id].setData(data); return; }
    var opts = {
      width: width(el), height: 260,
      series: [{}].concat(series.map(function (s) {
        return { label: s.label, stroke: s.color, width: s.width || 1.5, dash: s.dash, fill: s.fill, spanGaps: false };
      })),
      axes: [{}, { label: series.length ? series[0].unit : "" }],
      scales: { x: { time: true } }
    };
    charts[id] = new uPlot(opts, data, el);
  }

  function seriesFor(s, label, unit) {
    return [
      { label: label + " (mean)", values: s.mean, color: "#0b5394", width: 2, unit: unit },
      { label: "min", values: s.low, color: "#7a9cc6", width: 1, unit: unit },
      { label: "max", values: s.high, color: "#7a9cc6", width: 1, unit: unit }
    ];
  }

  function readJSON(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function get(obj, path) {
    return path.split(".").reduce(function (o, k) { return o == null ? o : o[k]; }, obj);
  }

  function fmtTime(s) { return new Date(s * 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC"; }

  function overview(data) {
    var el = document.getElementById("chart-power");
    if (!data.with_series) return;  /* the page shell: numbers and chart come from the first poll */
    var s = data.power_recent;
    var lines = seriesFor(s, "fleet power", "kW");
    if (data.plan && Array.isArray(data.plan.p_kw) && data.plan.p_kw.length === s.t_s.length) {
      lines.push({ label: "plan", values: data.plan.p_kw, color: "#8a1c00", dash: [6, 4], unit: "kW" });
    }
    draw("power", el, s.t_s, lines);
    document.querySelectorAll("[data-field]").forEach(function (node) {
      var key = node.getAttribute("data-field");
      if (key === "updated") { node.textContent = fmtTime(data.now_s); return; }
      var v = get(data, key);
      node.textContent = (v === null || v === undefined) ? "–" : v;
    });
  }

  function poll() {
    fetch("/ui/data/overview", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (r.status === 401) { window.location = "/ui/login"; return null; } return r.json(); })
      .then(function (d) { if (d) overview(d); })
      .catch(function () { /* transient: the next poll retries */ });
  }

  function site(data) {
    var p = data.power;
    var lines = seriesFor(p, "site power", "kW");
    draw("site-power", document.getElementById("chart-site-power"), p.t_s, lines);
    if (data.envelope.t_s.length) {
      var exp = data.envelope.export_kw.map(function (v) { return v === null ? null : -v; });
      draw("site-env", document.getElementById("chart-site-power").parentNode.appendChild(document.createElement("div")),
        data.envelope.t_s, [{ label: "export limit (negative)", values: exp, color: "#8a1c00", unit: "kW" }]);
    }
    if (data.setpoints.t_s.length) {
      draw("site-sp", document.getElementById("chart-site-power").parentNode.appendChild(document.createElement("div")),
        data.setpoints.t_s, [{ label: "set-points", values: data.setpoints.mean, color: "#2e7d32", unit: "kW" }]);
    }
    var soc = data.soc;
    draw("site-soc", document.getElementById("chart-site-soc"), soc.t_s,
      [{ label: "SoC (mean)", values: soc.mean, color: "#2e7d32", unit: "-" }]);
  }

  function network(data) {
    document.querySelectorAll("[data-node]").forEach(function (el) {
      var n = data.nodes[+el.getAttribute("data-node")];
      draw("node-" + n.id, el, n.t_s, [
        { label: "export limit", values: n.export_kw, color: "#8a1c00", unit: "kW" },
        { label: "import limit", values: n.import_kw, color: "#0b5394", unit: "kW" }
      ]);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var d = readJSON("overview-data");
    if (d) { overview(d); poll(); setInterval(poll, 5000); }
    d = readJSON("site-data");
    if (d) site(d);
    d = readJSON("network-data");
    if (d) network(d);
  });
})();
