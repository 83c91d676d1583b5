// The clerk app's only script (served from the binary; CSP script-src 'self'). Every page works
// without it; it adds: the status bar refreshed without a reload, the language picker applied on
// change, search as the clerk types, and the JMBG checked against the date and sex as typed.
// Everything it writes into the page goes through textContent, never innerHTML.
(function () {
  "use strict";

  function text(el, value) { if (el) { el.textContent = value || ""; } }

  // ---- status bar ------------------------------------------------------------------------
  var bar = document.getElementById("status");
  function poll() {
    fetch(bar.getAttribute("data-poll"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) { return; }
        bar.className = "status " + s.level;
        text(document.getElementById("st-conn"), s.connection);
        var h = document.getElementById("st-hub");
        text(h, s.hub_text);
        if (h) { h.setAttribute("data-host", s.hub); }
        var w = document.getElementById("st-waiting");
        text(w, s.waiting_text);
        if (w) { w.setAttribute("data-count", String(s.waiting)); }
        text(document.getElementById("st-oldest"), s.oldest_text);
        text(document.getElementById("st-last"), s.last_text);
        text(document.getElementById("st-alert"), s.alert);
        text(document.getElementById("st-cert"), s.cert);
      })
      .catch(function () { /* the next poll tries again */ });
  }
  if (bar) { setInterval(poll, 2000); }

  // ---- language picker -------------------------------------------------------------------
  var lang = document.getElementById("lang");
  if (lang) {
    lang.addEventListener("change", function () { document.getElementById("lang-form").submit(); });
  }

  // ---- search as the clerk types ---------------------------------------------------------
  var q = document.getElementById("q");
  var results = document.getElementById("results");
  var timer = null, seq = 0;
  function field(id) { var el = document.getElementById(id); return el ? el.value : ""; }
  function render(answer) {
    while (results.firstChild) { results.removeChild(results.firstChild); }
    if (answer.problem) {
      var p = document.createElement("p");
      p.className = "msg bad"; p.id = "search-problem"; p.textContent = answer.problem;
      results.appendChild(p);
      return;
    }
    var scope = document.createElement("p");
    scope.id = "scope"; scope.className = "scope " + answer.scope; scope.textContent = answer.scope_text;
    results.appendChild(scope);
    var count = document.createElement("p");
    count.id = "count"; count.textContent = answer.count_text;
    results.appendChild(count);
    var ol = document.createElement("ol");
    ol.id = "hits";
    answer.hits.forEach(function (h) {
      var li = document.createElement("li");
      li.className = "hit"; li.setAttribute("data-regno", h.regno);
      var link;
      if (h.here) { link = document.createElement("a"); link.href = "/record/" + encodeURIComponent(h.regno); }
      else { link = document.createElement("span"); }
      link.textContent = h.regno;
      li.appendChild(link);
      var kind = document.createElement("span");
      kind.className = "kind"; kind.textContent = h.kind_text;
      li.appendChild(kind);
      var summary = document.createElement("span");
      summary.className = "summary"; summary.textContent = h.summary;
      li.appendChild(summary);
      if (h.annotate_text) {
        var note = document.createElement("a");
        note.className = "annotate"; note.href = "/annotate/" + encodeURIComponent(h.regno);
        note.textContent = h.annotate_text;
        li.appendChild(note);
      }
      ol.appendChild(li);
    });
    results.appendChild(ol);
  }
  function search() {
    var params = new URLSearchParams({ q: field("q"), born: field("born"), municipality: field("municipality"), kind: field("kind") });
    if (!params.get("q").trim() && !params.get("born").trim() && !params.get("municipality").trim()) { return; }
    var mine = ++seq;
    fetch(results.getAttribute("data-live") + "?" + params.toString(), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok || r.status === 400 ? r.json() : null; })
      .then(function (a) { if (a && mine === seq) { render(a); } })
      .catch(function () { /* the form still works by submitting */ });
  }
  function later() { clearTimeout(timer); timer = setTimeout(search, 250); }
  if (q && results) {
    ["q", "born", "municipality", "kind"].forEach(function (id) {
      var el = document.getElementById(id);
      if (el) { el.addEventListener("input", later); }
    });
  }

  // ---- JMBG against date of birth and sex, as typed --------------------------------------
  function isoDate(s) {
    s = (s || "").trim().replace(/\.$/, "");
    var m = /^(\d{1,2})[.\/](\d{1,2})[.\/](\d{4})$/.exec(s);
    if (m) { return [m[3], ("0" + m[2]).slice(-2), ("0" + m[1]).slice(-2)]; }
    m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(s);
    if (m) { return [m[1], ("0" + m[2]).slice(-2), ("0" + m[3]).slice(-2)]; }
    return null;
  }
  function checkJmbg(input) {
    var group = input.getAttribute("data-jmbg");
    var out = document.getElementById(input.id + "-live");
    var j = input.value.replace(/\s/g, "");
    var bad = false;
    if (/^\d{13}$/.test(j)) {
      var dateEl = document.querySelector("[name='" + group + ".date_of_birth']");
      var sexEl = document.querySelector("[name='" + group + ".sex']");
      var d = dateEl ? isoDate(dateEl.value) : null;
      if (d) {
        var yyy = d[0].slice(1);
        if (j.slice(0, 2) !== d[2] || j.slice(2, 4) !== d[1] || j.slice(4, 7) !== yyy) { bad = true; }
      }
      if (sexEl && sexEl.value) {
        var female = parseInt(j.slice(9, 12), 10) >= 500;
        if ((sexEl.value === "female") !== female) { bad = true; }
      }
    }
    text(out, bad ? input.getAttribute("data-jmbg-msg") : "");
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-jmbg]"), function (input) {
    var group = input.getAttribute("data-jmbg");
    var again = function () { checkJmbg(input); };
    input.addEventListener("input", again);
    ["date_of_birth", "sex"].forEach(function (f) {
      var el = document.querySelector("[name='" + group + "." + f + "']");
      if (el) { el.addEventListener("input", again); el.addEventListener("change", again); }
    });
  });
}());

// The CSV import page: the file goes as the request body with the session's token, the bar
// showing the bytes sent; the node answers with an import job, polled for the rows read out of
// the rows in the file; then the report (every rejected row with its line and reasons, in the
// clerk's language) is shown, with a link to download it as CSV.
(function () {
  var form = document.getElementById("import-form");
  if (!form) { return; }
  var result = document.getElementById("import-result");
  var box = document.getElementById("import-progress-box");
  var bar = document.getElementById("import-progress");
  var label = document.getElementById("import-progress-text");
  var button = document.getElementById("import-start");
  function el(tag, t, cls) { var e = document.createElement(tag); e.textContent = t; if (cls) { e.className = cls; } return e; }
  function clear() { while (result.firstChild) { result.removeChild(result.firstChild); } }
  function show(percent, words) {
    box.hidden = false;
    bar.value = percent;
    bar.setAttribute("data-percent", String(percent));
    label.textContent = words;
  }
  function problem(text) {
    clear();
    var p = el("p", text, "msg bad"); p.id = "import-problem"; p.setAttribute("role", "alert");
    result.appendChild(p);
    button.disabled = false;
  }
  function report(a) {
    clear();
    button.disabled = false;
    if (a.problem) { problem(a.problem); return; }
    show(100, a.progress_text);
    var s = el("p", a.summary, a.rejected ? "msg warn" : "msg ok"); s.id = "import-summary"; result.appendChild(s);
    if (a.lines && a.lines.length) {
      var table = document.createElement("table"); table.id = "import-rejected";
      var head = document.createElement("tr");
      ["data-line", "data-status", "data-reasons"].forEach(function (k) {
        var th = el("th", form.getAttribute(k)); th.setAttribute("scope", "col"); head.appendChild(th);
      });
      table.appendChild(head);
      a.lines.forEach(function (r) {
        var tr = document.createElement("tr");
        tr.className = "import-" + r.status; tr.setAttribute("data-line", String(r.line));
        tr.appendChild(el("td", String(r.line))); tr.appendChild(el("td", r.status_text)); tr.appendChild(el("td", r.reasons.join("; ")));
        table.appendChild(tr);
      });
      result.appendChild(table);
    }
    if (a.unlisted) { var u = el("p", a.unlisted, "msg warn"); u.id = "import-unlisted"; result.appendChild(u); }
    var link = el("a", form.getAttribute("data-download"), "button");
    link.id = "import-download"; link.href = a.download; link.setAttribute("download", "import-report.csv");
    result.appendChild(link);
  }
  function poll(url) {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (a) {
        if (a.done || a.problem) { report(a); return; }
        show(a.percent, a.progress_text);
        setTimeout(function () { poll(url); }, 400);
      })
      .catch(function () { problem(form.getAttribute("data-lost")); });
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var input = document.getElementById("import-file");
    if (!input.files || !input.files[0]) { input.focus(); return; }
    var file = input.files[0];
    clear();
    if (file.size > parseInt(form.getAttribute("data-max"), 10)) { problem(form.getAttribute("data-too-large")); return; }
    button.disabled = true;
    var sending = form.getAttribute("data-sending");
    show(0, sending.replace("__P__", "0"));
    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/import");
    xhr.setRequestHeader("X-CSRF-Token", form.getAttribute("data-csrf"));
    xhr.setRequestHeader("Content-Type", "text/csv");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable && e.total > 0) {
        var pct = Math.floor(e.loaded * 100 / e.total);
        show(pct, sending.replace("__P__", String(pct)));
      }
    });
    xhr.addEventListener("load", function () {
      var a = null;
      try { a = JSON.parse(xhr.responseText); } catch (e) { a = null; }
      if (!a) { problem(form.getAttribute("data-lost")); return; }
      if (a.problem) { box.hidden = true; problem(a.problem); return; }
      show(0, form.getAttribute("data-busy"));
      poll(a.poll);
    });
    xhr.addEventListener("error", function () { box.hidden = true; problem(form.getAttribute("data-lost")); });
    xhr.send(file);
  });
})();
