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
  // The playground: variants edited side by side, each run streamed from /playground/run.
  var playground = document.getElementById("playground");
  if (playground) {
    var unready = JSON.parse(playground.dataset.unready || "{}");
    var maxVariants = Number(playground.dataset.maxVariants || 4);
    var variantsBox = document.getElementById("variants");
    var variants = function () { return Array.prototype.slice.call(variantsBox.querySelectorAll("[data-variant]")); };
    var renumber = function () {
      var all = variants();
      all.forEach(function (variant, index) {
        variant.querySelector("[data-variant-number]").textContent = String(index + 1);
        variant.querySelector("[data-remove-variant]").hidden = all.length < 2;
      });
      document.getElementById("add-variant").disabled = all.length >= maxVariants;
    };
    // A provider that cannot be called says why beside the variant using it.
    var explainProvider = function (variant) {
      var name = variant.querySelector("[name=provider]").value.toLowerCase();
      var note = variant.querySelector("[data-provider-note]");
      note.hidden = !unready[name];
      note.textContent = unready[name] ? "This provider cannot be called: " + unready[name] + "." : "";
    };
    var parseBox = function (variant, name, what) {
      var text = variant.querySelector("[name=" + name + "]").value.trim();
      if (!text) return null;
      try { return JSON.parse(text); } catch (error) { throw new Error(what + " is not JSON: " + error.message); }
    };
    // The variant as the server's Variant.
    var readVariant = function (variant) {
      var messages = Array.prototype.map.call(variant.querySelectorAll("[data-message]"), function (message) {
        return { role: message.querySelector("[name=role]").value, content: message.querySelector("[name=content]").value };
      });
      return {
        provider: variant.querySelector("[name=provider]").value,
        model_name: variant.querySelector("[name=model_name]").value,
        template_format: variant.querySelector("[name=template_format]").value,
        messages: messages,
        invocation_parameters: parseBox(variant, "invocation_parameters", "Invocation parameters") || {},
        tools: parseBox(variant, "tools", "Tools"),
        response_format: parseBox(variant, "response_format", "Response format")
      };
    };
    var readVariables = function () {
      var text = document.getElementById("playground-variables").value.trim();
      if (!text) return {};
      try { return JSON.parse(text); } catch (error) { throw new Error("Template variables are not JSON: " + error.message); }
    };
    var postJson = function (url, body) {
      return fetch(url, { method: "POST", headers: { "content-type": "application/json" }, credentials: "same-origin", body: JSON.stringify(body) });
    };
    var runVariant = function (variant) {
      var output = variant.querySelector("[data-output]");
      var failure = variant.querySelector("[data-run-error]");
      var status = variant.querySelector("[data-run-status]");
      var usage = variant.querySelector("[data-usage]");
      var fail = function (message) { failure.hidden = false; failure.textContent = message; status.textContent = "failed"; };
      var calls = variant.querySelector("[data-tool-calls]");
      output.textContent = ""; usage.textContent = ""; calls.textContent = ""; failure.hidden = true; failure.textContent = "";
      var body;
      try { body = { variant: readVariant(variant), variables: readVariables() }; } catch (error) { fail(error.message); return; }
      status.textContent = "running…";
      postJson("/playground/run", body).then(function (response) {
        if (!response.ok) {
          return response.json().then(function (refusal) { fail(refusal.error || ("refused: " + response.status)); },
            function () { fail("refused: " + response.status); });
        }
        var reader = response.body.getReader();
        var decoder = new TextDecoder();
        var pending = "";
        var handle = function (event) {
          if (event.text) output.textContent += event.text;
          if (event.tool_call) {
            var call = event.tool_call;
            var shown = calls.querySelector("[data-tool-call='" + call.index + "']");
            if (!shown) {
              shown = document.createElement("pre");
              shown.className = "tool-call";
              shown.setAttribute("data-tool-call", String(call.index));
              shown.dataset.name = ""; shown.dataset.arguments = "";
              calls.appendChild(shown);
            }
            if (call.name) shown.dataset.name += call.name;
            shown.dataset.arguments += call.arguments || "";
            shown.textContent = "→ " + shown.dataset.name + "(" + shown.dataset.arguments + ")";
          }
          if (event.prompt_tokens !== undefined) usage.textContent = event.prompt_tokens + " prompt + " + event.completion_tokens + " completion tokens";
          if (event.error) fail(event.error);
          if (event.trace) {
            var link = document.createElement("a");
            link.href = event.trace; link.textContent = "trace"; link.setAttribute("data-trace-link", "");
            status.textContent = event.error ? "failed · " : "done · ";
            status.appendChild(link);
          }
        };
        var pump = function () {
          return reader.read().then(function (chunk) {
            if (chunk.done) return;
            pending += decoder.decode(chunk.value, { stream: true });
            var frames = pending.split("\n\n");
            pending = frames.pop();
            frames.forEach(function (frame) {
              if (frame.indexOf("data: ") === 0) handle(JSON.parse(frame.slice(6)));
            });
            return pump();
          });
        };
        return pump();
      }).catch(function (error) { fail("The run stopped: " + error.message); });
    };
    var wireVariant = function (variant) {
      variant.querySelector("[name=provider]").addEventListener("change", function () {
        explainProvider(variant);
        // Anthropic needs max_tokens; an empty parameters box starts with it.
        var parameters = variant.querySelector("[name=invocation_parameters]");
        if (this.value === "ANTHROPIC" && !parameters.value.trim()) parameters.value = "{\n  \"max_tokens\": 1024\n}";
      });
      variant.querySelector("[data-run-variant]").addEventListener("click", function () { runVariant(variant); });
      variant.querySelector("[data-remove-variant]").addEventListener("click", function () { variant.remove(); renumber(); });
      variant.querySelector("[data-add-message]").addEventListener("click", function () {
        var box = variant.querySelector("[data-messages]");
        var last = box.querySelector("[data-message]:last-child");
        var message = last.cloneNode(true);
        message.querySelector("[name=content]").value = "";
        message.querySelector("[name=role]").value = last.querySelector("[name=role]").value === "user" ? "assistant" : "user";
        box.appendChild(message);
      });
      variant.addEventListener("click", function (event) {
        var remove = event.target.closest("[data-remove-message]");
        if (remove && variant.querySelectorAll("[data-message]").length > 1) remove.closest("[data-message]").remove();
      });
      explainProvider(variant);
    };
    variants().forEach(wireVariant);
    renumber();
    document.getElementById("add-variant").addEventListener("click", function () {
      var all = variants();
      if (all.length >= maxVariants) return;
      var copy = all[all.length - 1].cloneNode(true);
      // cloneNode keeps typed text in textareas and inputs but not chosen options.
      var sourceSelects = all[all.length - 1].querySelectorAll("select");
      Array.prototype.forEach.call(copy.querySelectorAll("select"), function (select, index) { select.value = sourceSelects[index].value; });
      copy.querySelector("[data-output]").textContent = "";
      copy.querySelector("[data-usage]").textContent = "";
      copy.querySelector("[data-tool-calls]").textContent = "";
      copy.querySelector("[data-run-status]").textContent = "";
      copy.querySelector("[data-run-error]").hidden = true;
      variantsBox.appendChild(copy);
      wireVariant(copy);
      renumber();
    });
    document.getElementById("run-all").addEventListener("click", function () { variants().forEach(runVariant); });
    // Saving and dataset runs: the chosen variant sent as JSON; a refusal shown in the form.
    Array.prototype.forEach.call(document.querySelectorAll("[data-playground-form]"), function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var failure = form.querySelector("[data-form-error]");
        failure.hidden = true;
        var body = {};
        Array.prototype.forEach.call(form.elements, function (field) { if (field.name && field.name !== "variant") body[field.name] = field.value; });
        if (body.dataset_id !== undefined) body.dataset_id = Number(body.dataset_id);
        var variant = variants()[Number(form.elements.variant.value) - 1];
        try {
          if (!variant) throw new Error("There is no variant " + form.elements.variant.value + ".");
          body.variant = readVariant(variant);
        } catch (error) { failure.hidden = false; failure.textContent = error.message; return; }
        postJson(form.getAttribute("action"), body).then(function (response) {
          return response.json().then(function (answer) {
            if (response.ok && answer.location) { window.location = answer.location; return; }
            failure.hidden = false; failure.textContent = answer.error || ("refused: " + response.status);
          });
        }).catch(function (error) { failure.hidden = false; failure.textContent = error.message; });
      });
    });
  }
  // Dataset upload: the chosen file's columns, each to tick as input, output, metadata or split.
  var uploadFile = document.querySelector("[data-upload-file]");
  if (uploadFile) {
    var csvHeader = function (line) {
      var cells = [], cell = "", quoted = false;
      for (var i = 0; i < line.length; i++) {
        var c = line[i];
        if (quoted) {
          if (c === '"' && line[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
        } else if (c === '"') quoted = true;
        else if (c === ",") { cells.push(cell); cell = ""; } else cell += c;
      }
      cells.push(cell);
      return cells;
    };
    uploadFile.addEventListener("change", function () {
      var file = uploadFile.files[0];
      var table = document.getElementById("upload-columns");
      var hint = document.querySelector("[data-upload-hint]");
      var body = table.querySelector("tbody");
      body.textContent = "";
      table.hidden = true;
      if (!file) return;
      file.slice(0, 1 << 20).text().then(function (text) {
        var first = text.split(/\r?\n/)[0] || "";
        var columns;
        try {
          columns = /\.(jsonl|ndjson)$/i.test(file.name) ? Object.keys(JSON.parse(first)) : csvHeader(first);
        } catch (error) { hint.textContent = "The file's first line cannot be read: " + error.message; return; }
        columns.forEach(function (column, index) {
          var row = document.createElement("tr");
          var name = document.createElement("td");
          name.textContent = column;
          row.appendChild(name);
          var isOutput = /^(output|outputs|answer|expected|reference|label)$/i.test(column);
          [["input_keys[]", !isOutput && index === 0], ["output_keys[]", isOutput], ["metadata_keys[]", false], ["split_keys[]", false]].forEach(function (choice) {
            var cell = document.createElement("td");
            var box = document.createElement("input");
            box.type = "checkbox"; box.name = choice[0]; box.value = column; box.checked = choice[1];
            box.setAttribute("aria-label", column + " " + choice[0].replace("_keys[]", ""));
            cell.appendChild(box);
            row.appendChild(cell);
          });
          body.appendChild(row);
        });
        hint.textContent = columns.length + " columns: tick what each one is.";
        table.hidden = false;
      });
    });
  }
})();
