/* nichelab page script: wires controls, readouts, tables and chart clicks to page parameters.
   It draws nothing: charts are Vega-Lite specs drawn by vega-embed. */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("nl-data").textContent);
  var NL = window.nichelab = {views: {}, state: Object.assign({}, D.params), errors: [], set: set};
  var ctl = {};
  document.querySelectorAll("[data-param]").forEach(function (el) {
    if (el.matches("input,select")) ctl[el.dataset.param] = el;
  });

  function typed(el, v) { return el && el.dataset.num ? Number(v) : v; }

  function set(name, value, from) {
    NL.state[name] = value;
    var el = ctl[name];
    if (el && el !== from) el.value = String(value);
    var out = document.getElementById("out-" + name);
    if (out) out.textContent = String(value);
    var runs = [];
    Object.keys(NL.views).forEach(function (k) {
      var v = NL.views[k];
      if (v._nlSignals && v._nlSignals.indexOf(name) >= 0) { v.signal(name, value); runs.push(v.runAsync()); }
    });
    readouts();
    activeWhen();
    document.querySelectorAll('table[data-select-param="' + name + '"] tbody tr').forEach(function (tr) {
      var on = tr.dataset.value === String(value);
      tr.classList.toggle("selected", on);
      tr.setAttribute("aria-selected", on ? "true" : "false");
    });
    if (el && el.dataset.filters) applyFilter(el);
    NL.ready = Promise.all(runs);
    return NL.ready;
  }

  function readouts() {
    document.querySelectorAll("section.readout").forEach(function (sec) {
      var r = D.readouts[Number(sec.dataset.readout)];
      var v = NL.state[r.param];
      var rows = r.records[String(v)] || [];
      var h = document.createElement("h3");
      h.textContent = r.title.replace("{value}", String(v));
      var dl = document.createElement("dl");
      rows.forEach(function (p) {
        var dt = document.createElement("dt"); dt.textContent = p[0];
        var dd = document.createElement("dd"); dd.textContent = p[1];
        dd.dataset.field = p[0];
        dl.appendChild(dt); dl.appendChild(dd);
      });
      sec.replaceChildren(h, dl);
    });
  }

  /* a control that works only for some values of another parameter: disabled, with its note, otherwise */
  function activeWhen() {
    Object.keys(ctl).forEach(function (n) {
      var el = ctl[n], p = el.dataset.when;
      if (!p) return;
      var on = el.dataset.whenValues.split(",").indexOf(String(NL.state[p])) >= 0;
      el.disabled = !on;
      var play = document.querySelector('button[data-play="' + n + '"]');
      if (play) play.disabled = !on;
      var note = document.getElementById("note-" + n);
      if (note) note.hidden = on;
    });
  }

  function applyFilter(el) {
    var group = el.value, target = el.dataset.filters, sel = ctl[target];
    if (sel && sel.tagName === "SELECT") {
      var first = null, keep = false;
      Array.prototype.forEach.call(sel.options, function (o) {
        var show = !group || o.dataset.group === group;
        o.hidden = !show; o.disabled = !show;
        if (show && first === null) first = o.value;
        if (show && o.value === sel.value) keep = true;
      });
      if (!keep && first !== null) set(target, typed(sel, first));
    }
    document.querySelectorAll('table[data-select-param="' + target + '"] tbody tr').forEach(function (tr) {
      tr.classList.toggle("group-hidden", !!group && tr.dataset.group !== group);
    });
    document.querySelectorAll(".table-block").forEach(countRows);
  }

  Object.keys(ctl).forEach(function (name) {
    var el = ctl[name];
    el.addEventListener(el.type === "range" ? "input" : "change", function () { set(name, typed(el, el.value), el); });
  });
  document.querySelectorAll("button[data-play]").forEach(function (b) {
    var timer = null, el = ctl[b.dataset.play];
    b.addEventListener("click", function () {
      if (timer) { clearInterval(timer); timer = null; b.textContent = "Play"; b.setAttribute("aria-pressed", "false"); return; }
      if (Number(el.value) >= Number(el.max)) set(b.dataset.play, Number(el.min));
      b.textContent = "Pause"; b.setAttribute("aria-pressed", "true");
      timer = setInterval(function () {
        var v = Number(el.value) + Number(el.step || 1);
        if (v > Number(el.max)) { clearInterval(timer); timer = null; b.textContent = "Play"; b.setAttribute("aria-pressed", "false"); return; }
        set(b.dataset.play, v);
      }, 80);
    });
  });

  /* tables: sort by a header click, filter by typing, select a row by click or Enter */
  /* a cell with no value ("", "–", "-", "n/a", "nan", "none") sorts last in both directions */
  var MISSING = /^(|[-–—]|n\/a|na|nan|none|null)$/i;
  function cellKey(tr, i) {
    var t = tr.children[i] ? tr.children[i].textContent.trim() : "";
    if (MISSING.test(t)) return null;
    var n = parseFloat(t.replace(/[%,]/g, ""));
    return isNaN(n) || !/^[-+]?[\d.]/.test(t) ? t.toLowerCase() : n;
  }
  function compareKeys(x, y, asc) {
    if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
    var c = (typeof x === typeof y) ? (x < y ? -1 : x > y ? 1 : 0) : (typeof x === "number" ? -1 : 1);
    return asc ? c : -c;
  }
  function countRows(block) {
    var rows = block.querySelectorAll("tbody tr"), shown = 0;
    rows.forEach(function (tr) { if (!tr.classList.contains("filtered") && !tr.classList.contains("group-hidden")) shown++; });
    var c = block.querySelector(".row-count");
    if (c) c.textContent = shown + " of " + rows.length + " rows";
  }
  document.querySelectorAll(".table-block").forEach(function (block) {
    var table = block.querySelector("table"), body = table.tBodies[0];
    table.querySelectorAll("th button.sort").forEach(function (btn, i) {
      btn.addEventListener("click", function () {
        var th = btn.parentElement, asc = th.getAttribute("aria-sort") !== "ascending";
        table.querySelectorAll("th").forEach(function (o) { o.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) { return compareKeys(cellKey(a, i), cellKey(b, i), asc); });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
    var f = block.querySelector(".table-filter");
    if (f) f.addEventListener("input", function () {
      var q = f.value.trim().toLowerCase();
      Array.prototype.forEach.call(body.rows, function (tr) {
        tr.classList.toggle("filtered", !!q && tr.textContent.toLowerCase().indexOf(q) < 0);
      });
      countRows(block);
    });
    countRows(block);
    var param = table.dataset.selectParam;
    if (param) {
      var pick = function (tr) {
        if (!tr || tr.dataset.value === undefined) return;
        set(param, typed(ctl[param], tr.dataset.value));
        var target = ctl[param] && (ctl[param].closest(".controls") || ctl[param].closest("section"));  /* the views */
        if (target && target.scrollIntoView) target.scrollIntoView({block: "start"});
      };
      body.addEventListener("click", function (e) { pick(e.target.closest("tr")); });
      body.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); pick(e.target.closest("tr")); } });
    }
  });

  /* charts */
  function embedAll() {
    if (!window.vegaEmbed) return Promise.resolve();
    var jobs = [];
    document.querySelectorAll(".nl-chart").forEach(function (el) {
      var c = D.charts[el.dataset.chart];
      var spec = Object.assign({}, c.spec);
      if (c.uses.length) {
        spec.datasets = Object.assign({}, spec.datasets || {});
        c.uses.forEach(function (k) { spec.datasets[k] = D.datasets[k]; });
      }
      var names = (spec.params || []).map(function (p) { return p.name; });
      spec.params = (spec.params || []).map(function (p) {
        return (p.name in NL.state && !p.select) ? Object.assign({}, p, {value: NL.state[p.name]}) : p;
      });
      jobs.push(vegaEmbed(el, spec, {actions: false, renderer: "canvas"}).then(function (res) {
        var view = res.view;
        view._nlSignals = names.filter(function (n) { return n in NL.state; });
        NL.views[el.dataset.chart] = view;
        if (c.click) {
          view.addEventListener("click", function (ev, item) {
            var d = item && item.datum;
            if (d && d[c.click[1]] !== undefined && d[c.click[1]] !== null) {
              var v = d[c.click[1]];
              if (c.click[0] in ctl && ctl[c.click[0]].dataset.filters !== undefined && ctl[c.click[0]].value === String(v)) v = "";
              set(c.click[0], v);
            }
          });
          el.classList.add("clickable");
        }
      }).catch(function (err) { NL.errors.push(String(err)); console.error(err); }));
    });
    return Promise.all(jobs);
  }
  readouts();
  activeWhen();
  Object.keys(ctl).forEach(function (n) { if (ctl[n].dataset.filters && ctl[n].value) applyFilter(ctl[n]); });
  document.querySelectorAll("table[data-select-param]").forEach(function (t) {
    var p = t.dataset.selectParam;
    t.querySelectorAll("tbody tr").forEach(function (tr) { tr.classList.toggle("selected", tr.dataset.value === String(NL.state[p])); });
  });
  NL.ready = embedAll().then(function () { document.body.dataset.chartsReady = "1"; });
})();
