/* The llm-extract report's behaviour: sortable and filterable tables, the record panel.
   Plain DOM, no library. Untrusted values are only ever set with textContent, never as HTML. */
(function () {
  "use strict";
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };
  var own = function (obj, key) { return Object.prototype.hasOwnProperty.call(obj, key); };

  // -- sorting: click (or Enter on) a header; again to reverse; empty cells always last ---------
  function cellKey(row, i, numeric) {
    var cell = row.cells[i];
    if (!cell) return null;
    var v = cell.hasAttribute("data-v") ? cell.getAttribute("data-v") : cell.textContent.trim();
    if (v === "") return null;
    if (numeric) { var n = parseFloat(v); return isNaN(n) ? null : n; }
    return v.toLowerCase();
  }
  function sortTable(table, i, th) {
    var numeric = th.getAttribute("data-type") === "num";
    var asc = th.getAttribute("aria-sort") !== "ascending";
    each(th.parentNode.cells, function (c) { c.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var keyed = rows.map(function (r) { return [cellKey(r, i, numeric), r]; });
    keyed.sort(function (a, b) {
      var x = a[0], y = b[0];
      if (x === null) return y === null ? 0 : 1;
      if (y === null) return -1;
      var d = numeric ? x - y : x.localeCompare(y, undefined, { numeric: true });
      return asc ? d : -d;
    });
    var frag = document.createDocumentFragment();
    keyed.forEach(function (k) { frag.appendChild(k[1]); });
    body.appendChild(frag);
  }
  each(document.querySelectorAll("table.sortable"), function (table) {
    each(table.tHead.rows[0].cells, function (th, i) {
      th.tabIndex = 0;
      th.classList.add("sort");
      var go = function () { sortTable(table, i, th); };
      th.addEventListener("click", go);
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); go(); }
      });
    });
  });

  // -- filtering: a text box (any cell contains it) and selects (a column's value) --------------
  function applyFilters(id) {
    var table = document.getElementById(id);
    if (!table) return;
    var text = "", selects = [];
    each(document.querySelectorAll(".filter"), function (c) {
      if (c.getAttribute("data-filter-for") !== id) return;
      if (c.tagName === "SELECT") {
        if (c.value) selects.push([parseInt(c.getAttribute("data-col"), 10), c.value]);
      } else {
        text = c.value.trim().toLowerCase();
      }
    });
    var shown = 0, total = 0;
    each(table.tBodies[0].rows, function (row) {
      total++;
      var ok = !text || row.textContent.toLowerCase().indexOf(text) >= 0;
      for (var k = 0; ok && k < selects.length; k++) {
        var cell = row.cells[selects[k][0]];
        var values = cell ? (cell.getAttribute("data-f") || cell.textContent.trim()).split(" ") : [];
        ok = values.indexOf(selects[k][1]) >= 0;
      }
      row.hidden = !ok;
      if (ok) shown++;
    });
    each(document.querySelectorAll(".shown"), function (el) {
      if (el.getAttribute("data-count-for") === id) el.textContent = shown + " of " + total + " shown";
    });
  }
  each(document.querySelectorAll(".filter"), function (c) {
    var id = c.getAttribute("data-filter-for");
    c.addEventListener("input", function () { applyFilters(id); });
    c.addEventListener("change", function () { applyFilters(id); });
    applyFilters(id);
  });

  // -- the record panel ---------------------------------------------------------------------------
  var panel = document.getElementById("panel");
  var panelBody = document.getElementById("panel-body");
  var panelTitle = document.getElementById("panel-title");
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function recordsOf(article) {
    if (!article) return {};
    if (!article._records) {
      var block = article.querySelector("script.recdata");
      try { article._records = block ? JSON.parse(block.textContent) : {}; } catch (e) { article._records = {}; }
    }
    return article._records;
  }
  function renderRecord(r) {
    var box = el("section", "rec rec-" + (r.kind === "agreement" ? "a" : "s"));
    box.appendChild(el("h3", null, r.kind + " " + r.id + ": " + r.label));
    var dl = el("dl");
    (r.fields || []).forEach(function (f) {
      dl.appendChild(el("dt", null, f[0]));
      dl.appendChild(el("dd", null, f[1]));
    });
    dl.appendChild(el("dt", null, "grounding"));
    dl.appendChild(el("dd", "grounding g-" + r.grounding, r.grounding));
    if (r.confidence !== undefined && r.confidence !== null) {
      dl.appendChild(el("dt", null, "confidence"));
      dl.appendChild(el("dd", "confidence", Number(r.confidence).toFixed(2)));
    }
    if (r.total) {
      dl.appendChild(el("dt", null, "total over a period"));
      dl.appendChild(el("dd", "total", r.total));
    }
    box.appendChild(dl);
    if (r.values && r.values.length) {
      box.appendChild(el("h4", null, "Where the article says each value"));
      var vl = el("ul", "values");
      r.values.forEach(function (v) {
        var li = el("li");
        var where = { evidence: "in the evidence", nearby: "in a sentence beside it", article: "elsewhere in the article",
                      missing: "nowhere in the article" }[v.where] || v.where;
        if (v.start !== null && v.start !== undefined) {
          var b = el("button", "val-btn", v.field + ": " + v.value);
          b.type = "button";
          b.setAttribute("data-start", v.start);
          b.setAttribute("data-end", v.end);
          li.appendChild(b);
        } else {
          li.appendChild(el("span", "val-missing", v.field + ": " + v.value));
        }
        li.appendChild(el("span", "muted", " " + where));
        vl.appendChild(li);
      });
      box.appendChild(vl);
    }
    if (r.flags && r.flags.length) {
      box.appendChild(el("h4", null, "Flags"));
      var ul = el("ul", "flags");
      r.flags.forEach(function (f) { ul.appendChild(el("li", null, f)); });
      box.appendChild(ul);
    }
    box.appendChild(el("h4", null, "Evidence"));
    (r.spans || []).forEach(function (s, i) {
      var head = (i === 0 ? "own evidence" : "further mention") + " · chars " + s.start + "–" + s.end +
        " · " + s.status + (s.status === "fuzzy" ? " (" + Number(s.score).toFixed(2) + ")" : "");
      box.appendChild(el("div", "span-head", head));
      box.appendChild(el("blockquote", "evidence", s.text === null ? "(article text not available)" : s.text));
    });
    if (!r.spans || !r.spans.length) box.appendChild(el("p", "muted", "No span in the article."));
    if (r.evidence && (!r.spans || !r.spans.length || r.spans[0].text !== r.evidence)) {
      box.appendChild(el("div", "span-head", "quote as the model wrote it"));
      box.appendChild(el("blockquote", "evidence model", r.evidence));
    }
    return box;
  }
  // -- a value's words highlighted in the article text (offsets are the text's characters) -----
  function clearValues(root) {
    each(root.querySelectorAll("mark.val"), function (m) {
      var parent = m.parentNode;
      while (m.firstChild) parent.insertBefore(m.firstChild, m);
      parent.removeChild(m);
      parent.normalize();
    });
  }
  function highlightValue(article, start, end) {
    var box = article.querySelector(".article-text");
    if (!box || !(end > start)) return null;
    clearValues(document);
    var walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT, null);
    var pos = 0, node, pieces = [];
    while ((node = walker.nextNode())) {
      var len = node.nodeValue.length;
      var a = Math.max(start, pos), b = Math.min(end, pos + len);
      if (a < b) pieces.push([node, a - pos, b - pos]);
      pos += len;
      if (pos >= end) break;
    }
    var first = null;
    pieces.forEach(function (p) {
      var n = p[0];
      if (p[2] < n.nodeValue.length) n.splitText(p[2]);
      var target = p[1] > 0 ? n.splitText(p[1]) : n;
      var mark = el("mark", "val");
      target.parentNode.insertBefore(mark, target);
      mark.appendChild(target);
      if (!first) first = mark;
    });
    if (first) first.scrollIntoView({ block: "center" });
    return first;
  }
  document.addEventListener("click", function (e) {
    var b = e.target.closest ? e.target.closest("button.val-btn") : null;
    if (!b || !panel.currentArticle) return;
    panel.currentArticle.open = true;
    highlightValue(panel.currentArticle, parseInt(b.getAttribute("data-start"), 10), parseInt(b.getAttribute("data-end"), 10));
  });

  function clearActive() {
    each(document.querySelectorAll("mark.hl.active"), function (m) { m.classList.remove("active"); });
  }
  function marksOf(article, ids) {
    var out = [];
    each(article.querySelectorAll("mark.hl[data-r]"), function (m) {
      var rs = m.getAttribute("data-r").split(" ");
      if (rs.some(function (x) { return ids.indexOf(x) >= 0; })) out.push(m);
    });
    return out;
  }
  function showRecords(article, ids) {
    var recs = recordsOf(article);
    while (panelBody.firstChild) panelBody.removeChild(panelBody.firstChild);
    var found = ids.filter(function (id) { return own(recs, id); });
    found.forEach(function (id) { panelBody.appendChild(renderRecord(recs[id])); });
    var summary = article.querySelector("summary b");
    panelTitle.textContent = (found.length > 1 ? found.length + " records" : "Record") +
      (summary ? " · " + summary.textContent : "");
    panel.hidden = false;
    panel.currentArticle = article;
    panel.setAttribute("data-records", found.join(" "));
    clearActive();
    marksOf(article, found).forEach(function (m) { m.classList.add("active"); });
  }
  function openArticle(anchor, recordId) {
    var article = document.getElementById(anchor);
    if (!article || !article.classList.contains("article")) return;
    article.open = true;
    var marks = recordId ? marksOf(article, [recordId]) : [];
    (marks[0] || article).scrollIntoView({ block: "center" });
    if (recordId) showRecords(article, [recordId]);
  }
  document.addEventListener("click", function (e) {
    var t = e.target;
    if (!(t instanceof Element)) return;
    var mark = t.closest("mark.hl[data-r]");
    if (mark) { showRecords(mark.closest("details.article"), mark.getAttribute("data-r").split(" ")); return; }
    var btn = t.closest("button.recbtn");
    if (btn) { showRecords(btn.closest("details.article"), [btn.getAttribute("data-rec")]); return; }
    var link = t.closest("[data-art]");
    if (link) { e.preventDefault(); openArticle(link.getAttribute("data-art"), link.getAttribute("data-rec")); return; }
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { panel.hidden = true; clearActive(); return; }
    if (e.key !== "Enter") return;
    var t = e.target;
    if (t instanceof Element && (t.matches("mark.hl[data-r]") || t.matches("g.ev[data-art]"))) {
      e.preventDefault();
      t.dispatchEvent(new MouseEvent("click", { bubbles: true }));
    }
  });
  document.getElementById("panel-close").addEventListener("click", function () { panel.hidden = true; clearActive(); });

  // hovering a highlight lights up every passage of the same records
  document.addEventListener("mouseover", function (e) {
    var t = e.target;
    if (!(t instanceof Element)) return;
    var mark = t.closest("mark.hl[data-r]");
    each(document.querySelectorAll("mark.hl.hover"), function (m) { m.classList.remove("hover"); });
    if (mark) marksOf(mark.closest("details.article"), mark.getAttribute("data-r").split(" ")).forEach(function (m) { m.classList.add("hover"); });
  });

  // -- articles: open the one named in the address; expand / collapse all --------------------------
  function fromHash() {
    var id = decodeURIComponent(location.hash.slice(1));
    if (/^art-\d+$/.test(id)) openArticle(id, null);
  }
  window.addEventListener("hashchange", fromHash);
  fromHash();
  var setAll = function (open) { each(document.querySelectorAll("details.article"), function (d) { d.open = open; }); };
  document.getElementById("expand-all").addEventListener("click", function () { setAll(true); });
  document.getElementById("collapse-all").addEventListener("click", function () { setAll(false); });
})();
