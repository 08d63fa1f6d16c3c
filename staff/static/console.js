/* Bokvar console: small progressive enhancements. Every form works without this file. */
(function () {
  "use strict";
  var base = document.querySelector('meta[name="console-base"]').content;
  var token = document.querySelector('meta[name="csrf-token"]').content;

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      var args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(null, args); }, ms);
    };
  }

  function post(path, payload) {
    return fetch(base + path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
      body: JSON.stringify(payload)
    }).then(function (response) { return response.json(); });
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, name) { return values[name] === undefined ? "" : values[name]; });
  }

  // Live SMS segment and encoding counter for free text (server-side count: one source of truth).
  document.querySelectorAll("[data-segment-counter]").forEach(function (area) {
    var out = document.getElementById(area.dataset.segmentCounter);
    var update = debounce(function () {
      if (!area.value) { out.textContent = out.dataset.empty; return; }
      post("/api/segments", { text: area.value }).then(function (info) {
        var text = fill(out.dataset.template, info);
        if (info.non_gsm && info.non_gsm.length) {
          text += " · " + fill(out.dataset.nonGsm, {
            chars: info.non_gsm.slice(0, 8).join(" ") + (info.non_gsm.length > 8 ? " …" : "")
          });
        }
        out.textContent = text;
      });
    }, 250);
    area.addEventListener("input", update);
    if (area.value) { update(); }
  });

  // Reply: free text or template.
  document.querySelectorAll("[data-reply-form]").forEach(function (form) {
    var panels = form.querySelectorAll("[data-mode-panel]");
    var select = form.querySelector("[data-template-preview]");
    var preview = select ? document.getElementById(select.dataset.templatePreview) : null;
    function showPreview() {
      if (!select || !select.value) { return; }
      post("/api/tasks/" + form.dataset.task + "/template", { key: select.value }).then(function (info) {
        if (info.error) { preview.textContent = info.error; return; }
        preview.textContent = info.text + "\n\n" + fill(preview.dataset.template, info);
      });
    }
    function apply() {
      var mode = form.querySelector("[data-mode]:checked").value;
      panels.forEach(function (panel) { panel.hidden = panel.dataset.modePanel !== mode; });
      if (mode === "template") { showPreview(); }
    }
    form.querySelectorAll("[data-mode]").forEach(function (radio) { radio.addEventListener("change", apply); });
    if (select) { select.addEventListener("change", showPreview); }
    apply();
  });

  // Template editor: validate and preview as the admin types.
  document.querySelectorAll("[data-template-editor]").forEach(function (form) {
    var area = form.querySelector("textarea");
    var problems = form.querySelector("[data-problems]");
    var previewText = form.querySelector("[data-preview]");
    var counter = form.querySelector("[data-counter]");
    var check = debounce(function () {
      post("/api/templates/check", { key: form.dataset.key, lang: form.dataset.lang, source: area.value })
        .then(function (result) {
          if (!result.ok) {
            problems.hidden = false;
            problems.replaceChildren();
            var list = document.createElement("ul");
            (result.problems || []).forEach(function (problem) {
              var item = document.createElement("li");
              item.textContent = problem;
              list.appendChild(item);
            });
            problems.appendChild(list);
            area.setAttribute("aria-invalid", "true");
            return;
          }
          form.closest(".editor-card").classList.remove("has-error");
          problems.hidden = true;
          problems.replaceChildren();
          area.removeAttribute("aria-invalid");
          previewText.textContent = result.text;
          var line = fill(counter.dataset.template, result);
          if (!result.within_budget) { line += " · " + counter.dataset.over; }
          counter.textContent = line;
        });
    }, 300);
    area.addEventListener("input", check);
  });
})();
