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
    var row = event.target.closest("tr[data-href]");
    if (row && !event.target.closest("a, button, input, form")) {
      location.href = row.dataset.href;
    }
  });

  // Forms that destroy something ask first.
  document.addEventListener("submit", function (event) {
    var message = event.target.dataset.confirm;
    if (message && !confirm(message)) event.preventDefault();
  });

  // Keyboard: "/" focuses the filter, j/k move through table rows or spans, Enter opens one.
  var cursor = -1;
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("[data-nav-row]")); }
  document.addEventListener("keydown", function (event) {
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

  // The trace tree: keep the selected span in view.
  var selected = document.querySelector(".tree .row.selected");
  if (selected) selected.scrollIntoView({ block: "center" });
})();
