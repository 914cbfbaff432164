// ember's web UI: the little behaviour the server-rendered pages need. No dependencies.
(function () {
  "use strict";
  var root = document.documentElement;

  // Theme: the system's unless chosen; the choice is remembered.
  var saved = localStorage.getItem("ember-theme");
  if (saved) root.dataset.theme = saved;
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-theme-toggle]");
    if (toggle) {
      var dark = root.dataset.theme ? root.dataset.theme === "dark" : matchMedia("(prefers-color-scheme: dark)").matches;
      root.dataset.theme = dark ? "light" : "dark";
      localStorage.setItem("ember-theme", root.dataset.theme);
      return;
    }
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      navigator.clipboard.writeText(copy.dataset.copy).then(function () {
        copy.textContent = "copied";
        setTimeout(function () { copy.textContent = "copy"; }, 1200);
      });
      return;
    }
    var edit = event.target.closest("[data-edit-annotation]");
    if (edit) {
      // Saving under the same name replaces the annotation: load it into the form to change it.
      var fields = JSON.parse(edit.dataset.editAnnotation);
      document.getElementById("annotation-level").value = fields.level;
      document.getElementById("annotation-name").value = fields.name;
      document.getElementById("annotation-label").value = fields.label || "";
      document.getElementById("annotation-score").value = fields.score === null ? "" : fields.score;
      document.getElementById("annotation-explanation").value = fields.explanation || "";
      document.getElementById("annotation-name").focus();
      return;
    }
    var twisty = event.target.closest("[data-collapse]");
    if (twisty) {
      event.preventDefault();
      setCollapsed(twisty.closest(".row"), twisty.getAttribute("aria-expanded") === "true");
      return;
    }
    if (event.target.closest("[data-collapse-all]") || event.target.closest("[data-expand-all]")) {
      var collapse = !!event.target.closest("[data-collapse-all]");
      treeRows().forEach(function (r) { if (r.querySelector("[data-collapse]") && r.dataset.depth === "0") setCollapsed(r, collapse); });
      treeRows().forEach(function (r) { if (r.querySelector("[data-collapse]")) r.querySelector("[data-collapse]").setAttribute("aria-expanded", String(!collapse)); });
      treeRows().forEach(function (r) { r.hidden = collapse && r.dataset.depth !== "0"; });
      return;
    }
    var raw = event.target.closest("[data-raw-toggle]");
    if (raw) {
      var detail = document.getElementById("span-detail");
      var on = detail.classList.toggle("show-raw");
      raw.setAttribute("aria-pressed", String(on));
      raw.textContent = on ? "formatted text" : "raw text";
      return;
    }
    var row = event.target.closest("tr[data-href]");
    if (row && !event.target.closest("a, button, input, form")) {
      location.href = row.dataset.href;
    }
  });

  // Forms that destroy something ask first.
  document.addEventListener("submit", function (event) {
    var message = (event.submitter && event.submitter.dataset.confirm) || event.target.dataset.confirm;
    if (message && !confirm(message)) event.preventDefault();
  });

  // Keyboard: Ctrl-K (or Cmd-K) searches, "/" focuses the filter, j/k move through table rows or
  // spans, Enter opens one.
  var cursor = -1;
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("[data-nav-row]")); }
  document.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k") {
      var box = document.getElementById("global-search");
      if (box) { event.preventDefault(); box.focus(); box.select(); }
      return;
    }
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName);
    if (typing) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var filter = document.querySelector("[data-filter-input]");
    if (event.key === "/" && filter) { event.preventDefault(); filter.focus(); filter.select(); return; }
    var list = rows();
    if (!list.length) return;
    if (event.key === "j" || event.key === "k") {
      cursor = Math.max(0, Math.min(list.length - 1, cursor + (event.key === "j" ? 1 : -1)));
      list.forEach(function (r, i) { r.classList.toggle("selected", i === cursor); });
      list[cursor].focus();
      list[cursor].scrollIntoView({ block: "nearest" });
    } else if (event.key === "Enter" && cursor >= 0) {
      var target = list[cursor];
      location.href = target.dataset.href || target.getAttribute("href");
    }
  });

  // The trace tree: collapse a span's descendants (the rows after it that are deeper), expand
  // them again (keeping collapsed descendants collapsed), and find spans by name or kind.
  function treeRows() { return Array.prototype.slice.call(document.querySelectorAll("#span-tree .row")); }
  function setCollapsed(row, collapse) {
    var list = treeRows(), start = list.indexOf(row), depth = Number(row.dataset.depth);
    var twisty = row.querySelector("[data-collapse]");
    if (twisty) { twisty.setAttribute("aria-expanded", String(!collapse)); twisty.textContent = collapse ? "▸" : "▾"; }
    var hiddenBelow = Infinity;
    for (var i = start + 1; i < list.length; i++) {
      var d = Number(list[i].dataset.depth);
      if (d <= depth) break;
      if (collapse) { list[i].hidden = true; continue; }
      if (d > hiddenBelow) { list[i].hidden = true; continue; }
      hiddenBelow = Infinity;
      list[i].hidden = false;
      var inner = list[i].querySelector("[data-collapse]");
      if (inner && inner.getAttribute("aria-expanded") === "false") hiddenBelow = d;
    }
  }
  var search = document.querySelector("[data-tree-search]");
  if (search) {
    search.addEventListener("input", function () {
      var query = search.value.trim().toLowerCase();
      treeRows().forEach(function (r) {
        r.classList.toggle("match", !!query && r.dataset.search.indexOf(query) >= 0);
        r.hidden = !!query && r.dataset.search.indexOf(query) < 0;
      });
    });
  }

  // The filter box completes the word before the caret from the page's list (fields, attribute
  // keys and annotation names of the project): arrows choose, Tab or Enter takes, Escape closes.
  var filterBox = document.querySelector("[data-suggest]");
  if (filterBox) {
    var words = JSON.parse(filterBox.dataset.suggest || "[]");
    var menu = document.createElement("ul");
    menu.className = "suggestions";
    menu.id = "filter-suggestions";
    menu.hidden = true;
    filterBox.parentNode.appendChild(menu);
    var choice = -1, start = 0;
    var wordBefore = function () {
      var text = filterBox.value.slice(0, filterBox.selectionStart);
      var match = /[A-Za-z_][\w.\[\]'"]*$/.exec(text);
      start = match ? match.index : text.length;
      return match ? match[0] : "";
    };
    var show = function () {
      var word = wordBefore();
      menu.innerHTML = "";
      choice = -1;
      var found = word.length < 1 ? [] : words.filter(function (w) { return w.indexOf(word) === 0 && w !== word; }).slice(0, 10);
      found.forEach(function (w) {
        var item = document.createElement("li");
        item.textContent = w;
        menu.appendChild(item);
      });
      menu.hidden = found.length === 0;
    };
    var take = function (word) {
      var end = filterBox.selectionStart;
      filterBox.value = filterBox.value.slice(0, start) + word + filterBox.value.slice(end);
      filterBox.selectionStart = filterBox.selectionEnd = start + word.length;
      menu.hidden = true;
    };
    var mark = function () {
      Array.prototype.forEach.call(menu.children, function (li, i) { li.classList.toggle("selected", i === choice); });
    };
    filterBox.addEventListener("input", show);
    // Closed when focus has left the box (a click on a completion comes first).
    filterBox.addEventListener("blur", function () {
      setTimeout(function () { if (document.activeElement !== filterBox) menu.hidden = true; }, 150);
    });
    filterBox.addEventListener("keydown", function (event) {
      if (menu.hidden) return;
      var count = menu.children.length;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        choice = (choice + (event.key === "ArrowDown" ? 1 : count - 1)) % count;
        mark();
      } else if ((event.key === "Tab" || event.key === "Enter") && count > 0 && (choice >= 0 || event.key === "Tab")) {
        event.preventDefault();
        take(menu.children[Math.max(choice, 0)].textContent);
      } else if (event.key === "Escape") {
        menu.hidden = true;
      }
    });
    menu.addEventListener("mousedown", function (event) {
      var item = event.target.closest("li");
      if (item) { event.preventDefault(); take(item.textContent); filterBox.focus(); }
    });
  }

  // A table's rows found by their text (`data-table-search` names the table).
  Array.prototype.forEach.call(document.querySelectorAll("[data-table-search]"), function (box) {
    box.addEventListener("input", function () {
      var query = box.value.trim().toLowerCase();
      Array.prototype.forEach.call(document.querySelectorAll(box.dataset.tableSearch + " tbody tr"), function (row) {
        row.hidden = !!query && (row.dataset.search || row.textContent.toLowerCase()).indexOf(query) < 0;
      });
    });
  });

  // Times: written in UTC by the server, shown in the browser's zone, named.
  var localFormat = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
    hour12: false, timeZoneName: "short"
  });
  var shortFormat = new Intl.DateTimeFormat(undefined, { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false, timeZoneName: "short" });
  Array.prototype.forEach.call(document.querySelectorAll("[data-local-short]"), function (label) {
    var at = new Date(label.getAttribute("data-local-short"));
    if (!isNaN(at)) label.textContent = shortFormat.format(at);
  });
  Array.prototype.forEach.call(document.querySelectorAll("time[data-local]"), function (time) {
    var at = new Date(time.getAttribute("datetime"));
    if (isNaN(at)) return;
    time.title = time.getAttribute("datetime");
    time.textContent = localFormat.format(at);
  });

  // The trace tree: keep the selected span in view.
  var selected = document.querySelector(".tree .row.selected");
  if (selected) selected.scrollIntoView({ block: "center" });
})();
